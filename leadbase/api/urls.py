"""Routes under /api/v1/: the ninja API, the docs' files, and JSON answers where Django would
answer with an HTML page (an unknown path, a method the path does not take)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, re_path, reverse
from django.views.decorators.csrf import csrf_exempt

from leadbase.api import docs
from leadbase.api.errors import error_response, json_response
from leadbase.api.main import api


def _json_405(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Ninja answers a method a path does not take with a plain-text 405: make it JSON."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return error_response(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here; use {response['Allow']}.",
                headers={"Allow": response["Allow"]},
            )
        return response

    return wrapped


@csrf_exempt
def index(request: HttpRequest) -> HttpResponse:
    """/api/v1/ itself: where the description and the docs are."""
    return json_response(
        200, {"openapi": reverse("api:openapi-json"), "docs": reverse("api:openapi-view")}
    )


@csrf_exempt
def not_found(request: HttpRequest, rest: str) -> HttpResponse:
    """Any other path under /api/v1/: a JSON 404 rather than the web app's HTML page."""
    return error_response(
        404, "not_found", f"There is no API endpoint /api/v1/{rest}; see /api/v1/docs."
    )


# The namespace ninja reverses its own routes in (the OpenAPI URL on the docs page).
app_name = api.urls_namespace
ninja_patterns = api.urls[0]
urlpatterns = [
    path("", index, name="index"),
    path("docs/assets/<str:name>", docs.asset, name="docs-asset"),
    *[URLPattern(p.pattern, _json_405(p.callback), p.default_args, p.name) for p in ninja_patterns],
    re_path(r"^(?P<rest>.*)$", not_found),
]
