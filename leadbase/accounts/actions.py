"""Writes for users, workspaces, memberships and API tokens."""

from __future__ import annotations

import hashlib
import secrets

import phonenumbers
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from leadbase.accounts.errors import AccountError
from leadbase.accounts.models import ApiToken, Membership, Role, TokenScope, User, Workspace


def do_create_workspace(slug: str, name: str | None = None) -> Workspace:
    """Create a workspace; ``slug`` must be new and URL-safe."""
    if slugify(slug) != slug or not slug:
        raise AccountError("invalid_slug", f"“{slug}” is not a valid workspace slug (use a-z, 0-9 and -).")
    if Workspace.objects.filter(slug=slug).exists():
        raise AccountError("exists", f"The workspace “{slug}” already exists.")
    return Workspace.objects.create(slug=slug, name=name or slug.replace("-", " ").title())


def do_update_workspace(workspace: Workspace, *, name: str, default_region: str, actor: User) -> Workspace:
    """Rename ``workspace`` and set the region its phone numbers without + are read in (blank:
    LEADBASE_DEFAULT_REGION). The name is what leads see: confirmation emails come from it and
    the pages they open name it."""
    name = " ".join(name.split())
    if not name:
        raise AccountError("invalid_name", "Give the workspace a name: your leads see it.", "name")
    if len(name) > 200:
        raise AccountError("invalid_name", "The name is too long (200 characters at most).", "name")
    region = default_region.strip().upper()
    if region and region not in phonenumbers.SUPPORTED_REGIONS:
        raise AccountError("invalid_region", f"“{default_region}” is not a region code (e.g. US, GB, DE).", "default_region")
    workspace.name, workspace.default_region = name, region
    workspace.save(update_fields=["name", "default_region"])
    return workspace


@transaction.atomic
def do_create_user(
    email: str, password: str, *, workspace_slug: str, role: str = Role.OWNER, name: str = ""
) -> User:
    """Create a user with a membership in ``workspace_slug``, creating the workspace if needed.

    An existing user gets the membership (and a new password) instead of an error, so
    ``leadbase createuser`` can be re-run to add someone to a second workspace.
    """
    if role not in Role.values:
        raise AccountError("invalid_role", f"Role must be one of {', '.join(Role.values)}, not “{role}”.")
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise AccountError("invalid_email", f"“{email}” is not an email address.") from None
    try:  # the rules the password-change page applies (AUTH_PASSWORD_VALIDATORS)
        validate_password(password)
    except ValidationError as exc:
        raise AccountError("weak_password", " ".join(exc.messages)) from None
    workspace = Workspace.objects.filter(slug=workspace_slug).first() or do_create_workspace(workspace_slug)
    user = User.objects.filter(email=email).first()
    if user is None:
        first, _, last = name.partition(" ")
        user = User.objects.create_user(email, password, first_name=first, last_name=last)
    else:
        user.set_password(password)
        user.save(update_fields=["password"])
    Membership.objects.update_or_create(user=user, workspace=workspace, defaults={"role": role})
    return user


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def do_create_api_token(
    user: User, workspace: Workspace, *, scope: str = TokenScope.WRITE, name: str = ""
) -> tuple[ApiToken, str]:
    """Create an API token and return it with its secret, which is never stored or shown again."""
    if not Membership.objects.filter(user=user, workspace=workspace).exists():
        raise AccountError("not_member", f"{user.email} is not a member of the workspace “{workspace.slug}”.")
    if scope not in TokenScope.values:
        raise AccountError("invalid_scope", f"Scope must be one of {', '.join(TokenScope.values)}.")
    limit = ApiToken._meta.get_field("name").max_length
    if len(name) > limit:
        raise AccountError("name_too_long", f"A token name has at most {limit} characters (this one has {len(name)}).")
    secret = "lb_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        workspace=workspace, user=user, name=name, prefix=secret[:10], digest=hash_token(secret), scope=scope
    )
    return token, secret


def do_revoke_api_token(token: ApiToken) -> bool:
    """Revoke ``token`` for good: from now on it gets 401. True when this call revoked it, False
    when it was revoked already (its ``revoked_at`` stays the first revocation's).

    A conditional update, so two revocations at once record one time between them.
    """
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return bool(revoked)
