"""Who is calling: ``Authorization: Bearer <token>`` resolved to a token, its user and workspace.

Order of checks on every request: the token (unknown, revoked, or its user no longer a member:
401), the per-token rate limit (429 with ``Retry-After``), then the scope (a read token may only
GET: 403). On success the request carries ``token``, ``user``, ``workspace`` and ``membership``.
Only the SHA-256 of a token is stored, so the lookup hashes what was sent.
"""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from leadbase.accounts.actions import hash_token
from leadbase.accounts.models import ApiToken, Membership, TokenScope
from leadbase.api.errors import ApiError
from leadbase.api.ratelimit import take_request

#: last_used_at is a hint for people reviewing their tokens; writing it once a minute is enough.
LAST_USED_PRECISION = timedelta(minutes=1)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_TOKEN_LENGTH = 200


class TokenAuth(HttpBearer):
    """The API's only authentication: a bearer token of a current member of the workspace."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        token = token.strip()
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        api_token = (
            ApiToken.objects.select_related("workspace", "user")
            .filter(digest=hash_token(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if api_token is None:
            return None
        membership = Membership.objects.filter(
            user_id=api_token.user_id, workspace_id=api_token.workspace_id
        ).first()
        if membership is None:
            return None
        # Already loaded with the token: the access-checked queries read them without a query.
        membership.user, membership.workspace = api_token.user, api_token.workspace

        wait = take_request(api_token)
        if wait is not None:
            raise ApiError(
                429,
                "rate_limited",
                f"Too many requests for this token; try again in {wait} s.",
                headers={"Retry-After": str(wait)},
            )
        if request.method not in READ_METHODS and api_token.scope != TokenScope.WRITE:
            raise ApiError(
                403,
                "read_only_token",
                "This token has read scope; writing needs a token with write scope.",
            )

        _touch_last_used(api_token)
        request.token = api_token
        request.user = api_token.user
        request.workspace = api_token.workspace
        request.membership = membership
        return api_token


def _touch_last_used(api_token: ApiToken) -> None:
    now = timezone.now()
    if api_token.last_used_at is None or api_token.last_used_at < now - LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)


def actor_label(api_token: ApiToken) -> str:
    """How the token appears in a lead's timeline."""
    return f"API token {api_token.prefix}…"


def source_ref(api_token: ApiToken) -> str:
    """What a lead created through the token records as its source."""
    return api_token.name or f"token {api_token.prefix}…"


def require_manage(request: HttpRequest) -> None:
    """Owners and marketers only (creating leads in the whole workspace, channels)."""
    if not request.membership.can_manage:
        raise ApiError(403, "forbidden", "Only owners and marketers can do this.")


def require_all_leads(request: HttpRequest) -> None:
    """Roles that see every lead of the workspace (raw submissions are anyone's personal data)."""
    if not request.membership.sees_all_leads:
        raise ApiError(403, "forbidden", "Your role only sees the leads assigned to you.")
