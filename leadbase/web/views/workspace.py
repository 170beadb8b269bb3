"""The workspace's settings: its name, which leads see, and its phone region."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from leadbase.accounts.actions import do_update_workspace
from leadbase.accounts.errors import AccountError
from leadbase.accounts.models import Role
from leadbase.web.access import member_required
from leadbase.web.forms import region_choices


class WorkspaceForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=200,
        help_text="Your business as your leads know it: confirmation emails come from this name, "
        "and the pages they open after a form say it.",
    )
    default_region = forms.ChoiceField(
        label="Phone numbers without + are from",
        required=False,
        help_text="For numbers typed in forms, imports and the API without their country code.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        server = settings.DEFAULT_REGION
        self.fields["default_region"].choices = [("", f"The server's default ({server})"), *region_choices()]


@member_required(manage=True)
def workspace_settings(request: HttpRequest) -> HttpResponse:
    """Owners change the name and region; marketers see them."""
    workspace = request.membership.workspace
    can_edit = request.membership.role == Role.OWNER
    initial = {"name": workspace.name, "default_region": workspace.default_region}
    form = WorkspaceForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and can_edit and form.is_valid():
        try:
            do_update_workspace(workspace, actor=request.user, **form.cleaned_data)
        except AccountError as exc:
            form.add_error(exc.field or None, exc.message)
        else:
            messages.success(request, "Workspace settings saved.")
            return redirect("web:workspace_settings")
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and not can_edit:
        status = 403
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    context = {"form": form, "can_edit": can_edit, "nav": "workspace"}
    return render(request, "web/workspace.html", context, status=status)
