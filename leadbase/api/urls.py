"""Routes under /api/v1/: the ninja API, the docs' files, and JSON answers where Django would
answer with an HTML page (an unknown path, a method the path does not take).

Every route answers methods the same way (``_methods``): HEAD as GET without the body, OPTIONS
with the methods the path takes, any other method it does not take with a JSON 405.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, re_path, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from leadbase.api import docs
from leadbase.api.errors import error_response, json_response
from leadbase.api.main import api


def _methods(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """``view`` with the API's answers to methods it does not take itself.

    ``view`` says which methods it takes in the ``Allow`` header of its own (plain-text) 405,
    as ninja and ``require_GET`` both do. Then:

    - HEAD, where the path takes GET: the GET answer (same token checks, status and headers)
      without its body, as HTTP asks (RFC 9110, 9.3.2); ninja itself has no HEAD.
    - OPTIONS: 204 with ``Allow``, with no token needed, as the methods are public anyway
      (openapi.json).
    - Anything else: JSON ``405 method_not_allowed`` with ``Allow``.

    Exempt from CSRF: the API authenticates with a bearer token, never a cookie, so there is no
    request to forge, and Django's check would answer a POST to a GET-only path with an HTML 403
    before the 405.
    """

    @csrf_exempt
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code != 405 or response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return response
        allowed = {m.strip() for m in response["Allow"].split(",")} - {""}
        takes_get = "GET" in allowed
        allow = ", ".join(sorted(allowed | {"OPTIONS"} | ({"HEAD"} if takes_get else set())))
        if request.method == "HEAD" and takes_get:
            return _head(view, request, *args, **kwargs)
        if request.method == "OPTIONS":
            answer = HttpResponse(status=204)
            answer["Allow"] = allow
            return answer
        return error_response(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed here; use {allow}.",
            headers={"Allow": allow},
        )

    return wrapped


def _head(
    view: Callable[..., HttpResponse], request: HttpRequest, *args: Any, **kwargs: Any
) -> HttpResponse:
    """What GET would answer, with its length but without its body."""
    request.method = "GET"
    try:
        response = view(request, *args, **kwargs)
    finally:
        request.method = "HEAD"
    if response.streaming:
        # A file: its Content-Length is set already, and the WSGI server closes the file.
        response.streaming_content = []
    else:
        length = len(response.content)
        response.content = b""
        response["Content-Length"] = str(length)
    return response


@require_GET
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
    path("", _methods(index), name="index"),
    path("docs/assets/<str:name>", _methods(docs.asset), name="docs-asset"),
    *[URLPattern(p.pattern, _methods(p.callback), p.default_args, p.name) for p in ninja_patterns],
    re_path(r"^(?P<rest>.*)$", not_found),
]
