"""Request checks that apply before any view runs."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

MESSAGE = (
    "Send the body with a Content-Length header: chunked transfer encoding is not supported."
)
BAD_LENGTH = "The Content-Length header must be the body's size in bytes, a whole number."


class LengthRequiredMiddleware:
    """Refuse a body sent with ``Transfer-Encoding: chunked`` and no ``Content-Length`` (411),
    and a ``Content-Length`` that is not a number (400).

    Django reads a request body only as far as its Content-Length, so such a body reads as empty:
    a valid JSON post would be told it is not JSON, or a form post that a field is missing. The
    answer is JSON in the shape of the part of the site that was asked: the API's
    ``{"code", "message", "detail"}`` under ``/api/``, the forms' ``{"error", "code"}`` elsewhere.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = request.META.get("CONTENT_LENGTH", "")
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not length:
            return _refuse(request, 411, "length_required", MESSAGE)
        if length and not length.strip().isdigit():
            # granian answers 400 itself; behind another server Django would fail with a 500
            return _refuse(request, 400, "bad_content_length", BAD_LENGTH)
        return self.get_response(request)


def _refuse(request: HttpRequest, status: int, code: str, message: str) -> JsonResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"code": code, "message": message, "detail": []}, status=status)
    return JsonResponse({"error": message, "code": code}, status=status)
