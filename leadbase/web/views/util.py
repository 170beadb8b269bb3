"""Small helpers shared by the views: htmx partial detection and safe redirects."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def wants_partial(request: HttpRequest) -> bool:
    """True for an htmx swap; False for a normal page and for htmx's history restore, which
    needs the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def safe_next(request: HttpRequest, default: str) -> str:
    """The ``next`` URL of a POST when it points at this site, else ``default``."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
