"""Small explicit factories. Leads are made through the real action, so tests exercise it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leadbase.accounts.actions import do_create_user
from leadbase.accounts.models import Role, User, Workspace
from leadbase.leads.actions import do_create_lead
from leadbase.leads.models import Lead

PASSWORD = "correct horse battery"


@dataclass
class Personas:
    workspace: Workspace
    owner: User
    marketer: User
    sales: User
    viewer: User
    outsider: User
    other_workspace: Workspace


def make_user(email: str, workspace: str = "acme", role: str = Role.OWNER) -> User:
    return do_create_user(email, PASSWORD, workspace_slug=workspace, role=role, name=email.split("@")[0].title())


def make_personas() -> Personas:
    owner = make_user("owner@acme.test", role=Role.OWNER)
    marketer = make_user("marketer@acme.test", role=Role.MARKETER)
    sales = make_user("sales@acme.test", role=Role.SALES)
    viewer = make_user("viewer@acme.test", role=Role.VIEWER)
    outsider = make_user("outsider@other.test", workspace="other", role=Role.OWNER)
    return Personas(
        workspace=Workspace.objects.get(slug="acme"), owner=owner, marketer=marketer, sales=sales, viewer=viewer,
        outsider=outsider, other_workspace=Workspace.objects.get(slug="other"),
    )


_counter = 0


def make_lead(workspace: Workspace, **overrides: Any) -> Lead:
    """A valid lead; every call gets a distinct name and email unless overridden."""
    global _counter
    _counter += 1
    given = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Katherine", "Claude"][_counter % 7]
    family = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Johnson", "Shannon"][_counter // 7 % 7]
    record = {"name": f"{given} {family}", "email": f"lead{_counter}@example.org"}
    record.update(overrides)
    owner = record.pop("owner", None)
    lead = do_create_lead(workspace, record, actor=None).lead
    if owner is not None:
        Lead.objects.filter(pk=lead.pk).update(owner=owner)
        lead.refresh_from_db()
    return lead
