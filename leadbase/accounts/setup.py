"""First-run setup: the `default` workspace and a first owner to log in with."""

from __future__ import annotations

import secrets

from django.conf import settings

from leadbase.accounts.actions import do_create_user
from leadbase.accounts.models import Role, User, Workspace
from leadbase.accounts.queries import get_only_workspace


def ensure_first_login() -> tuple[str, str] | None:
    """On a fresh install create workspace `default` and its owner; return (email, password).

    Returns the login kept from an earlier first run while that password file exists, so the
    README's command keeps printing how to log in; returns None once real users exist without it.
    """
    path = settings.DATA_DIR / "first-login.txt"
    if User.objects.exists():
        if path.exists():
            email, _, password = path.read_text(encoding="utf-8").strip().partition(" ")
            return email, password
        return None
    workspace = ensure_a_workspace()
    email, password = "admin@example.com", secrets.token_urlsafe(12)
    do_create_user(email, password, workspace_slug=workspace.slug, role=Role.OWNER, name="Admin")
    path.write_text(f"{email} {password}\n", encoding="utf-8")
    path.chmod(0o600)
    return email, password


def ensure_a_workspace() -> Workspace:
    """The first workspace; on a fresh install, where there is none yet, workspace `default`."""
    workspace = Workspace.objects.order_by("id").first()
    if workspace is None:
        workspace, _ = Workspace.objects.get_or_create(slug="default", defaults={"name": "Default"})
    return workspace


def workspace_for_command(slug: str | None) -> Workspace:
    """The workspace an operator's command works in: ``--workspace SLUG``, else the only one;
    on a fresh install `default`, created here as `leadbase serve` would, so that importing a
    file is the first thing one can do. Raises AccountError otherwise."""
    if not slug and not Workspace.objects.exists():
        return ensure_a_workspace()
    return get_only_workspace(slug)
