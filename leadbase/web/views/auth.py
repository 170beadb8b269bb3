"""Log in, log out, change password, and switch between workspaces."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from leadbase.accounts.queries import get_membership_for_user
from leadbase.web.access import SESSION_KEY, member_required
from leadbase.web.forms import LoginForm


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): a link or an image cannot log someone out."""


@method_decorator(member_required(optional=True), name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "web/password_change.html"
    success_url = reverse_lazy("web:home")

    def form_valid(self, form):
        response = super().form_valid(form)
        _forget_first_login(self.request.user.email)
        messages.success(self.request, "Your password was changed.")
        return response


def _forget_first_login(email: str) -> None:
    """Delete the first-run password file once its user chose a password of their own, so
    `leadbase serve` stops printing a password that no longer works."""
    path = settings.DATA_DIR / "first-login.txt"
    try:
        named = path.read_text(encoding="utf-8").split(" ", 1)[0].strip().lower()
    except FileNotFoundError:
        return
    except OSError:
        named = email
    if named == email.lower():
        path.unlink(missing_ok=True)


@require_POST
@member_required
def switch_workspace(request: HttpRequest) -> HttpResponse:
    """Make another of the user's workspaces the current one (404 for one they are not in)."""
    slug = request.POST.get("workspace", "")
    if not slug:
        raise Http404("No workspace chosen.")
    membership = get_membership_for_user(request.user, slug)
    request.session[SESSION_KEY] = membership.workspace.slug
    messages.info(request, f"You are now working in {membership.workspace.name}.")
    return redirect("web:home")
