"""Who is asking: the signed-in user's current workspace membership, set on every page request.

``member_required`` is the one door to the app's pages. It sends anonymous visitors to the log-in
page, sets ``request.membership`` (the workspace kept in the session, or the user's first one),
and refuses roles that may not use the page. Object-level checks (which lead, which import)
are the access-checked queries in ``leadbase.leads.queries``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from leadbase.accounts.models import Membership
from leadbase.accounts.queries import get_membership_for_user

SESSION_KEY = "workspace"


def current_membership(request: HttpRequest) -> Membership:
    """The membership of the workspace chosen in this session, else the user's first one.

    A slug left in the session after the membership was removed falls back to the first
    workspace instead of locking the user out; no membership at all is a 404.
    """
    slug = request.session.get(SESSION_KEY)
    try:
        return get_membership_for_user(request.user, slug)
    except Http404:
        if not slug:
            raise
    request.session.pop(SESSION_KEY, None)
    return get_membership_for_user(request.user)


def member_required(
    view: Callable[..., HttpResponse] | None = None, *, manage: bool = False, optional: bool = False
) -> Any:
    """Decorate a view: log-in required, ``request.membership`` set.

    ``manage``: only owners and marketers (imports, exports); others get 403.
    ``optional``: a user without any workspace still gets the page (``membership`` is None).
    """

    def decorate(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(func)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            try:
                request.membership = current_membership(request)
            except Http404:
                if not optional:
                    raise
                request.membership = None
            if manage and not request.membership.can_manage:
                raise PermissionDenied("Only owners and marketers can do this.")
            return func(request, *args, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate
