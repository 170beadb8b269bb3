"""Template context: the current workspace, the user's role and the workspaces to switch to."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from leadbase.accounts.models import Membership
from leadbase.web.navigation import navigation


def workspace(request: HttpRequest) -> dict:
    membership = getattr(request, "membership", None)
    context: dict = {"membership": membership, "workspace": getattr(membership, "workspace", None)}
    if membership is not None:
        context["navigation"] = SimpleLazyObject(lambda: navigation(membership))
        # Evaluated only when the navigation renders the switcher (one query).
        context["memberships"] = SimpleLazyObject(
            lambda: list(
                Membership.objects.filter(user_id=membership.user_id)
                .select_related("workspace")
                .order_by("workspace__name")
            )
        )
    return context
