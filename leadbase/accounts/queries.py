"""Access-checked reads for workspaces and memberships."""

from __future__ import annotations

from django.http import Http404

from leadbase.accounts.models import Membership, User, Workspace


def get_membership_for_user(user: User, slug: str | None = None) -> Membership:
    """The user's membership in workspace ``slug`` (or their first one); 404 when they have none.

    Raising Http404 (not 403) keeps other workspaces' slugs from being probed.
    """
    qs = Membership.objects.select_related("workspace").filter(user=user)
    if slug:
        qs = qs.filter(workspace__slug=slug)
    membership = qs.order_by("workspace__slug").first()
    if membership is None:
        raise Http404("No such workspace.")
    return membership


def get_only_workspace(slug: str | None = None) -> Workspace:
    """The workspace named ``slug``, or the only one there is (for the CLI)."""
    from leadbase.accounts.errors import AccountError

    if slug:
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            raise AccountError("no_workspace", f"There is no workspace “{slug}”.")
        return workspace
    workspaces = list(Workspace.objects.order_by("slug")[:2])
    if not workspaces:
        raise AccountError("no_workspace", "There is no workspace yet: run `leadbase createuser` first.")
    if len(workspaces) > 1:
        raise AccountError("ambiguous_workspace", "There are several workspaces: name one with --workspace SLUG.")
    return workspaces[0]
