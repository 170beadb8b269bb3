"""The workspace settings page: its name (what leads see) and its phone region."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from leadbase.accounts.models import Workspace
from leadbase.capture.demo import load_demo_forms

pytestmark = pytest.mark.django_db
URL = "/settings/workspace"


def test_an_owner_renames_the_workspace_and_confirmation_emails_use_the_new_name(
    client_as, personas, django_capture_on_commit_callbacks, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
                                  "QUEUES": ["default", "imports"]}}
    load_demo_forms(personas.workspace, personas.owner)
    owner = client_as("owner")
    assert "Workspace" in owner.get(reverse("web:home")).content.decode()  # in the navigation

    saved = owner.post(URL, {"name": "  Acme   Studio ", "default_region": "GB"})

    assert saved.status_code == 302
    workspace = Workspace.objects.get(pk=personas.workspace.pk)
    assert (workspace.name, workspace.default_region) == ("Acme Studio", "GB")
    with django_capture_on_commit_callbacks(execute=True):
        client_as("anonymous").post(
            "/f/contact", {"name": "Ada Lovelace", "email": "ada@example.org", "consent_email_marketing": "on"}
        )
    (sent,) = mail.outbox
    assert sent.subject == "Please confirm you want to hear from Acme Studio"
    assert sent.from_email.startswith("Acme Studio <")


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "   ", "default_region": ""}, "name", "This field is required."),
        ({"name": "Acme", "default_region": "XX"}, "default_region", "Select a valid choice."),
        ({"name": "x" * 201, "default_region": ""}, "name", "at most 200 characters"),
    ],
)
def test_a_bad_value_is_refused_naming_the_field_and_changes_nothing(client_as, personas, body, field, message):
    before = Workspace.objects.get(pk=personas.workspace.pk)

    refused = client_as("owner").post(URL, body)

    assert refused.status_code == 400
    assert message in str(refused.context["form"].errors[field])
    after = Workspace.objects.get(pk=personas.workspace.pk)
    assert (after.name, after.default_region) == (before.name, before.default_region)


def test_a_marketer_sees_the_settings_but_cannot_change_them_and_sales_cannot_see_them(client_as, personas):
    marketer = client_as("marketer")
    page = marketer.get(URL)
    refused = marketer.post(URL, {"name": "Not Acme", "default_region": ""})

    assert page.status_code == 200 and "Only an owner of the workspace can change these." in page.content.decode()
    assert 'disabled' in page.content.decode()
    assert refused.status_code == 403
    assert Workspace.objects.get(pk=personas.workspace.pk).name != "Not Acme"
    assert client_as("sales").get(URL).status_code == 403
    assert client_as("anonymous").get(URL).status_code == 302


def test_a_fresh_install_s_home_page_asks_the_owner_to_name_the_workspace(client_as, personas):
    Workspace.objects.filter(pk=personas.workspace.pk).update(slug="default", name="Default")
    nudge = "confirmation emails come from “Default”"

    assert nudge in client_as("owner").get(reverse("web:home")).content.decode()
    assert nudge not in client_as("marketer").get(reverse("web:home")).content.decode()
    client_as("owner").post(URL, {"name": "Acme", "default_region": ""})
    assert nudge not in client_as("owner").get(reverse("web:home")).content.decode()


def test_the_regions_are_listed_by_country_name(client_as):
    page = client_as("owner").get(URL).content.decode()

    assert '<option value="DE">Germany (DE, +49)</option>' in page
    assert '<option value="XK">Kosovo (XK, +383)</option>' in page  # not an ISO country, a numbering plan
    assert page.index("Germany (DE") < page.index("Switzerland (CH")  # by name (by code CH comes first)
