"""Request checks that apply before any view runs."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

MESSAGE = (
    "Send the body with a Content-Length header: chunked transfer encoding is not supported."
)


class LengthRequiredMiddleware:
    """Refuse a body sent with ``Transfer-Encoding: chunked`` and no ``Content-Length`` (411).

    Django reads a request body only as far as its Content-Length, so such a body reads as empty:
    a valid JSON post would be told it is not JSON, or a form post that a field is missing. The
    answer is JSON in the shape of the part of the site that was asked: the API's
    ``{"code", "message", "detail"}`` under ``/api/``, the forms' ``{"error", "code"}`` elsewhere.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            if request.path.startswith("/api/"):
                body = {"code": "length_required", "message": MESSAGE, "detail": []}
            else:
                body = {"error": MESSAGE, "code": "length_required"}
            return JsonResponse(body, status=411)
        return self.get_response(request)
