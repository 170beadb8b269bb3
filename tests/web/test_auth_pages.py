"""Logging in and out, changing the password, switching workspaces, the home page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from leadbase.accounts.actions import do_create_user
from leadbase.accounts.models import Role
from leadbase.leads.models import ImportJob, ImportStatus, PossibleDuplicate
from tests.factories import PASSWORD, make_lead

pytestmark = pytest.mark.django_db


def test_a_member_logs_in_with_email_and_password_and_lands_on_home(personas):
    client = Client()
    page = client.get(reverse("web:login"))
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.content.decode()
    response = client.post(
        reverse("web:login"), {"username": "OWNER@acme.test", "password": PASSWORD}
    )
    assert response.status_code == 302 and response.url == reverse("web:home")
    assert client.get(reverse("web:home")).status_code == 200


def test_a_wrong_password_shows_an_error_and_does_not_log_in(personas):
    client = Client()
    response = client.post(
        reverse("web:login"), {"username": "owner@acme.test", "password": "nope"}
    )
    assert response.status_code == 200 and "correct email" in response.content.decode().lower()
    assert client.get(reverse("web:home")).status_code == 302


def test_login_returns_to_the_page_that_asked_for_it(personas):
    client = Client()
    response = client.get(reverse("web:leads"))
    assert response.url == f"{reverse('web:login')}?next=/leads/"
    response = client.post(
        response.url, {"username": "owner@acme.test", "password": PASSWORD, "next": "/leads/"}
    )
    assert response.url == "/leads/"


def test_logout_is_a_post_and_ends_the_session(personas, client_as):
    client = client_as("owner")
    response = client.post(reverse("web:logout"))
    assert response.status_code == 302 and response.url == reverse("web:login")
    assert client.get(reverse("web:home")).status_code == 302


def test_changing_the_password_forgets_the_first_run_password_file(
    personas, client_as, settings, tmp_path
):
    settings.DATA_DIR = tmp_path
    (tmp_path / "first-login.txt").write_text("owner@acme.test first-password\n")
    client = client_as("owner")
    response = client.post(
        reverse("web:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a brand new passphrase",
            "new_password2": "a brand new passphrase",
        },
    )
    assert response.status_code == 302 and response.url == reverse("web:home")
    assert not (tmp_path / "first-login.txt").exists()
    assert client.get(reverse("web:home")).status_code == 200  # still logged in
    personas.owner.refresh_from_db()
    assert personas.owner.check_password("a brand new passphrase")


def test_another_users_password_change_keeps_the_first_run_password_file(
    personas, client_as, settings, tmp_path
):
    settings.DATA_DIR = tmp_path
    (tmp_path / "first-login.txt").write_text("admin@example.com first-password\n")
    client_as("viewer").post(
        reverse("web:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a brand new passphrase",
            "new_password2": "a brand new passphrase",
        },
    )
    assert (tmp_path / "first-login.txt").exists()


def test_a_wrong_old_password_changes_nothing(personas, client_as, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    (tmp_path / "first-login.txt").write_text("owner@acme.test first-password\n")
    response = client_as("owner").post(
        reverse("web:password_change"),
        {
            "old_password": "wrong",
            "new_password1": "a brand new passphrase",
            "new_password2": "a brand new passphrase",
        },
    )
    assert response.status_code == 200 and (tmp_path / "first-login.txt").exists()


class TestWorkspaces:
    def test_a_member_of_several_workspaces_can_switch_between_them(self, personas):
        do_create_user("marketer@acme.test", PASSWORD, workspace_slug="other", role=Role.VIEWER)
        make_lead(personas.workspace, name="Grace Hopper")
        make_lead(personas.other_workspace, name="Alan Turing")
        personas.marketer.refresh_from_db()  # do_create_user set the password again
        client = Client()
        client.force_login(personas.marketer)
        home = client.get(reverse("web:home")).content.decode()
        assert 'name="workspace" value="other"' in home and 'name="workspace" value="acme"' in home
        assert [lead.name for lead in client.get(reverse("web:leads")).context["leads"]] == [
            "Grace Hopper"
        ]

        response = client.post(reverse("web:switch_workspace"), {"workspace": "other"})
        assert response.status_code == 302
        response = client.get(reverse("web:leads"))
        assert [lead.name for lead in response.context["leads"]] == ["Alan Turing"]
        assert response.context["membership"].role == Role.VIEWER
        assert "Download CSV" not in response.content.decode()

    def test_nobody_can_switch_into_a_workspace_they_are_not_in(self, personas, client_as):
        client = client_as("outsider")
        assert (
            client.post(reverse("web:switch_workspace"), {"workspace": "acme"}).status_code == 404
        )
        assert client.post(reverse("web:switch_workspace"), {}).status_code == 404

    def test_a_single_workspace_shows_no_switcher(self, personas, client_as):
        assert (
            'name="workspace"' not in client_as("owner").get(reverse("web:home")).content.decode()
        )

    def test_a_removed_membership_falls_back_to_the_first_workspace(self, personas):
        from leadbase.accounts.models import Membership

        do_create_user("marketer@acme.test", PASSWORD, workspace_slug="other", role=Role.VIEWER)
        personas.marketer.refresh_from_db()  # do_create_user set the password again
        client = Client()
        client.force_login(personas.marketer)
        client.post(reverse("web:switch_workspace"), {"workspace": "other"})
        Membership.objects.filter(user=personas.marketer, workspace__slug="other").delete()
        response = client.get(reverse("web:home"))
        assert response.status_code == 200 and response.context["workspace"].slug == "acme"


class TestHome:
    def test_home_shows_counts_duplicates_and_recent_imports(self, personas, client_as):
        a = make_lead(personas.workspace, name="Grace Hopper")
        b = make_lead(personas.workspace, name="Grace B. Hopper")
        PossibleDuplicate.objects.create(
            workspace=personas.workspace, lead_a=a, lead_b=b, reason="similar_name_company"
        )
        ImportJob.objects.create(
            workspace=personas.workspace,
            filename="fair-2025.csv",
            path="/x",
            status=ImportStatus.DONE,
        )
        response = client_as("marketer").get(reverse("web:home"))
        counts = response.context["counts"]
        assert (counts["total"], counts["new_this_week"], counts["duplicates"]) == (2, 2, 1)
        body = response.content.decode()
        assert "fair-2025.csv" in body and "possible duplicates to review" in body

    def test_a_sales_rep_home_counts_their_leads_and_hides_imports(self, personas, client_as):
        make_lead(personas.workspace, owner=personas.sales)
        make_lead(personas.workspace)
        ImportJob.objects.create(workspace=personas.workspace, filename="fair-2025.csv", path="/x")
        response = client_as("sales").get(reverse("web:home"))
        assert response.context["counts"]["total"] == 1
        body = response.content.decode()
        assert "fair-2025.csv" not in body and reverse("web:imports") not in body

    def test_the_navigation_covers_the_whole_loop_and_marks_sections_still_to_come(
        self, personas, client_as, monkeypatch
    ):
        from leadbase.web import navigation

        sections = (
            ("Clean", (navigation.Entry("leads", "Leads", "web:leads"),)),
            ("Reach", (navigation.Entry("email", "Email", "no-such-app:campaigns"),)),
            ("Settings", (navigation.Entry("import", "Import", "web:imports", manage=True),)),
        )
        monkeypatch.setattr(navigation, "SECTIONS", sections)
        body = client_as("owner").get(reverse("web:leads")).content.decode()
        assert '<a href="/leads/" aria-current="page">Leads</a>' in body
        assert '<span class="soon" title="Coming in a later release">Email</span>' in body
        assert '<a href="/imports/">Import</a>' in body
        assert (
            '<a href="/imports/">Import</a>'
            not in client_as("sales").get(reverse("web:leads")).content.decode()
        )

    def test_the_real_navigation_names_every_part_of_the_loop(self, personas, client_as):
        body = client_as("owner").get(reverse("web:home")).content.decode()
        for label in (
            "Home",
            "Capture",
            "Import",
            "Leads",
            "Duplicates",
            "Qualify",
            "Sales queue",
            "Reach",
            "Email",
            "Events",
            "Measure",
            "Reports",
        ):
            assert label in body, label
