"""Every API error is JSON of one shape, whatever raised it.

    {"code": "validation_error", "message": "…",
     "detail": [{"field": "email", "code": "invalid_email", "message": "…"}]}

``code`` is stable and meant for programs, ``message`` for people; ``detail`` lists the fields
at fault (empty when the error is not about a field). The handlers installed by
:func:`install_handlers` turn ninja's and Django's exceptions and the domain errors of the
actions into that shape, so endpoints never build error responses themselves.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from leadbase.capture.channels import ChannelError
from leadbase.leads.errors import LeadError, TransitionError
from leadbase.leads.queries import BadCursor

logger = logging.getLogger(__name__)

#: pydantic error types renamed to the codes the API documents; others keep pydantic's name.
_PYDANTIC_CODES = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "value_error": "invalid_value",
}
_PYDANTIC_MESSAGES = {
    "missing": "This field is required.",
    "extra_forbidden": "This field is not accepted.",
}
#: Leading parts of a pydantic error location that name where a value came from, not a field.
_SOURCES = {"body", "query", "path", "header"}
#: pydantic error types that, about the body itself, mean it is not a JSON object.
_NOT_AN_OBJECT = {"model_attributes_type", "model_type", "dict_type"}


class ApiError(Exception):
    """An error answered as it is: status, code, message, the field at fault, extra headers."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}


def _body(code: str, message: str, detail: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "detail": detail or []}


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    detail = [{"field": field, "code": code, "message": message}] if field else []
    response = json_response(status, _body(code, message, detail))
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def json_response(status: int, body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


class JsonParser(Parser):
    """Bodies must be UTF-8 JSON sent as ``application/json``.

    Ninja wraps any parse failure in a 400 ``HttpError``; the ApiError raised here rides along as
    its ``__cause__`` and :func:`_http_error` answers with it (415 for a wrong content type).
    ``NaN`` and ``Infinity`` are refused: they are not JSON and PostgreSQL cannot store them.
    """

    def parse_body(self, request: HttpRequest) -> Any:
        content_type = (request.content_type or "").lower()
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise ApiError(
                415,
                "unsupported_media_type",
                "Send the body as JSON with Content-Type: application/json "
                f"(not “{content_type or 'none'}”).",
            )
        # JSON is UTF-8 (RFC 8259); a body declared in another charset is refused as the forms
        # refuse it, rather than read as UTF-8 and stored garbled or called undecodable.
        charset = (request.content_params.get("charset") or "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise ApiError(
                415,
                "unsupported_media_type",
                f"Send the body as UTF-8 JSON (not charset “{charset}”).",
            )
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, "invalid_encoding", "The body is not valid UTF-8.") from None
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except ValueError as exc:
            raise ApiError(400, "malformed_json", f"The body is not valid JSON: {exc}.") from None
        except RecursionError:  # [[[[…]]]]: a few KB nest deeper than the decoder's stack
            raise ApiError(400, "malformed_json", "The body's JSON is nested too deep to read.") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def field_name(loc: tuple[Any, ...]) -> str:
    """``("body", "payload", "custom", "size")`` -> ``"custom.size"``; the body itself -> ``""``."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        source = parts.pop(0)
        if source == "body" and parts:
            parts.pop(0)  # the endpoint's parameter name, not part of the document
    # pydantic marks a failing dict key with a "[key]" step after the key itself.
    return ".".join(str(p) for p in parts if p != "[key]")


def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    detail = []
    for error in exc.errors:
        field = field_name(tuple(error.get("loc", ())))
        if field:
            code = _PYDANTIC_CODES.get(error["type"], error["type"])
            message = _PYDANTIC_MESSAGES.get(error["type"]) or _message(error)
        elif error["type"] in _NOT_AN_OBJECT:
            code, message = "invalid_body", "The body must be a JSON object."
        elif error["type"] == "missing":
            # No body at all: ninja does not parse an empty body, and reports the whole
            # document as a missing field without a name.
            code, message = "invalid_body", "The body is empty; send a JSON object."
        elif error["type"] == "string_unicode":
            # An object, but a key of it is not valid Unicode (a lone surrogate): pydantic
            # reports that against the body, as the key cannot be quoted.
            code = "invalid_field_name"
            message = "A field name in the body is not valid Unicode (an unpaired surrogate)."
        else:
            code, message = error["type"], _message(error)
        detail.append({"field": field or None, "code": code, "message": message})
    fields = ", ".join(sorted({d["field"] for d in detail if d["field"]}))
    message = f"Invalid input: {fields}." if fields else detail[0]["message"]
    return json_response(422, _body("validation_error", message, detail))


def _message(error: dict[str, Any]) -> str:
    # Our own validators' messages, without pydantic's "Value error, " in front.
    if error["type"] == "value_error" and "error" in error.get("ctx", {}):
        return str(error["ctx"]["error"])
    return error.get("msg") or "Invalid value."


def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(exc.status, exc.code, exc.message, field=exc.field, headers=exc.headers)


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, ApiError):
        return _api_error(request, exc.__cause__)
    if isinstance(exc, AuthenticationError):
        return error_response(
            401,
            "unauthorized",
            "Missing or invalid API token: send it as “Authorization: Bearer <token>”.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return error_response(
        exc.status_code, "bad_request" if exc.status_code == 400 else "error", exc.message
    )


def _lead_error(request: HttpRequest, exc: LeadError) -> HttpResponse:
    status = 409 if isinstance(exc, TransitionError) else 422
    return error_response(status, exc.code, exc.message, field=exc.field or None)


def _channel_error(request: HttpRequest, exc: ChannelError) -> HttpResponse:
    return error_response(
        409 if exc.code == "duplicate_channel" else 422,
        exc.code,
        exc.message,
        field=exc.field or None,
    )


def _bad_cursor(request: HttpRequest, exc: BadCursor) -> HttpResponse:
    return error_response(
        422,
        "invalid_cursor",
        "This cursor was not made by this API; start from the first page.",
        field="cursor",
    )


def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, "not_found", str(exc) or "Not found.")


def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(403, "forbidden", str(exc) or "Your role cannot do this.")


def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    size = f"{limit / 1024 / 1024:.1f} MB" if limit >= 1024 * 1024 else f"{limit / 1024:.0f} KB"
    return error_response(413, "body_too_large", f"The body is larger than {size.replace('.0 ', ' ')}, the most a request may send.")


def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    return error_response(
        500, "server_error", "Something went wrong on our side; it has been logged."
    )


def install_handlers(api: NinjaAPI) -> None:
    """Answer every exception raised in an operation with the JSON error shape above."""
    for exc_class, handler in (
        (Exception, _server_error),
        (ValidationError, _validation_error),
        (HttpError, _http_error),
        (ApiError, _api_error),
        (LeadError, _lead_error),
        (ChannelError, _channel_error),
        (BadCursor, _bad_cursor),
        (Http404, _not_found),
        (PermissionDenied, _forbidden),
        (RequestDataTooBig, _too_big),
    ):
        api.add_exception_handler(exc_class, handler)
