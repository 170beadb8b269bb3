"""First-run setup: the `default` workspace and a first owner to log in with."""

from __future__ import annotations

import secrets

from django.conf import settings

from leadbase.accounts.actions import do_create_user
from leadbase.accounts.models import Role, User, Workspace


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
    if not Workspace.objects.exists():
        Workspace.objects.create(slug="default", name="Default")
    workspace = Workspace.objects.order_by("id").first()
    email, password = "admin@example.com", secrets.token_urlsafe(12)
    do_create_user(email, password, workspace_slug=workspace.slug, role=Role.OWNER, name="Admin")
    path.write_text(f"{email} {password}\n", encoding="utf-8")
    path.chmod(0o600)
    return email, password
