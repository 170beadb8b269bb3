"""Every page for every persona: who gets the page, who is sent to log in, who gets 403 or 404.

The acme workspace has an owner, a marketer, a sales rep and a viewer; the outsider owns another
workspace. Pages about acme objects are a 404 for the outsider (their ids are not confirmed).
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leadbase.leads.importer import do_upload_import
from leadbase.leads.models import ImportJob, ImportStatus, PossibleDuplicate
from tests.factories import make_lead

pytestmark = pytest.mark.django_db

PERSONAS = ["owner", "marketer", "sales", "viewer", "outsider", "anonymous"]
CSV = b"Name,Email\nAda Lovelace,ada@example.org\n"


@pytest.fixture
def acme(personas, tmp_path, settings):
    """An unassigned lead, a sales rep's lead, an open pair, an upload and a finished import."""
    settings.UPLOAD_DIR = tmp_path
    lead = make_lead(personas.workspace, name="Grace Hopper", company="Navy")
    other = make_lead(personas.workspace, name="Grace B. Hopper", company="Navy")
    own = make_lead(personas.workspace, owner=personas.sales)
    pair = PossibleDuplicate.objects.create(
        workspace=personas.workspace, lead_a=lead, lead_b=other, reason="similar_name_company"
    )
    upload = do_upload_import(
        personas.workspace, SimpleUploadedFile("a.csv", CSV), actor=personas.owner
    )
    report = tmp_path / "report.csv"
    report.write_text("row,outcome,lead_id,code,message\n1,created,1,,\n")
    done = ImportJob.objects.create(
        workspace=personas.workspace,
        filename="b.csv",
        path=str(tmp_path / "b.csv"),
        status=ImportStatus.DONE,
        rows=1,
        created=1,
        report_path=str(report),
    )
    return {"lead": lead.pk, "own": own.pk, "pair": pair.pk, "upload": upload.pk, "done": done.pk}


def expect(**by_persona: int) -> list[int]:
    return [by_persona[p] for p in PERSONAS]


# url name, kwargs key (from the acme fixture), expected status per persona (order of PERSONAS)
GET_PAGES = [
    (
        "web:home",
        None,
        expect(owner=200, marketer=200, sales=200, viewer=200, outsider=200, anonymous=302),
    ),
    (
        "web:leads",
        None,
        expect(owner=200, marketer=200, sales=200, viewer=200, outsider=200, anonymous=302),
    ),
    (
        "web:lead",
        "lead",
        expect(owner=200, marketer=200, sales=404, viewer=200, outsider=404, anonymous=302),
    ),
    (
        "web:lead",
        "own",
        expect(owner=200, marketer=200, sales=200, viewer=200, outsider=404, anonymous=302),
    ),
    (
        "web:leads_export",
        None,
        expect(owner=200, marketer=200, sales=403, viewer=403, outsider=200, anonymous=302),
    ),
    (
        "web:duplicates",
        None,
        expect(owner=200, marketer=200, sales=200, viewer=200, outsider=200, anonymous=302),
    ),
    (
        "web:imports",
        None,
        expect(owner=200, marketer=200, sales=403, viewer=403, outsider=200, anonymous=302),
    ),
    (
        "web:import_new",
        None,
        expect(owner=200, marketer=200, sales=403, viewer=403, outsider=200, anonymous=302),
    ),
    (
        "web:import_mapping",
        "upload",
        expect(owner=200, marketer=200, sales=403, viewer=403, outsider=404, anonymous=302),
    ),
    (
        "web:import",
        "done",
        expect(owner=200, marketer=200, sales=403, viewer=403, outsider=404, anonymous=302),
    ),
    (
        "web:import_report",
        "done",
        expect(owner=200, marketer=200, sales=403, viewer=403, outsider=404, anonymous=302),
    ),
    (
        "web:password_change",
        None,
        expect(owner=200, marketer=200, sales=200, viewer=200, outsider=200, anonymous=302),
    ),
    (
        "web:login",
        None,
        expect(owner=302, marketer=302, sales=302, viewer=302, outsider=302, anonymous=200),
    ),
]


@pytest.mark.parametrize("persona_index,persona", list(enumerate(PERSONAS)))
@pytest.mark.parametrize(
    "name,key,statuses", GET_PAGES, ids=[f"{n}:{k or ''}" for n, k, _ in GET_PAGES]
)
def test_each_page_answers_each_persona_as_expected(
    client_as, acme, name, key, statuses, persona_index, persona
):
    url = reverse(name, kwargs={"pk": acme[key]} if key else None)
    response = client_as(persona).get(url)
    assert response.status_code == statuses[persona_index], (name, persona)
    if persona == "anonymous" and name != "web:login":
        assert response.url.startswith(reverse("web:login"))


POST_ACTIONS = [
    (
        "web:duplicate_dismiss",
        {},
        expect(owner=302, marketer=302, sales=404, viewer=403, outsider=404, anonymous=302),
    ),
    (
        "web:duplicate_merge",
        {"keep": "lead"},
        expect(owner=302, marketer=302, sales=404, viewer=403, outsider=404, anonymous=302),
    ),
]


@pytest.mark.parametrize("persona_index,persona", list(enumerate(PERSONAS)))
@pytest.mark.parametrize("name,data,statuses", POST_ACTIONS, ids=[n for n, _, _ in POST_ACTIONS])
def test_each_duplicate_action_answers_each_persona_as_expected(
    client_as, acme, name, data, statuses, persona_index, persona
):
    post = {k: acme[v] for k, v in data.items()}
    response = client_as(persona).post(reverse(name, kwargs={"pk": acme["pair"]}), post)
    assert response.status_code == statuses[persona_index]
    still_open = PossibleDuplicate.objects.filter(pk=acme["pair"], status="open").exists()
    assert still_open == (statuses[persona_index] != 302 or persona == "anonymous")


@pytest.mark.parametrize(
    "persona", ["owner", "marketer", "sales", "viewer", "outsider", "anonymous"]
)
def test_only_members_of_an_import_workspace_may_upload_to_it(client_as, acme, persona):
    upload = SimpleUploadedFile("c.csv", CSV, content_type="text/csv")
    response = client_as(persona).post(reverse("web:import_new"), {"file": upload})
    expected = {
        "owner": 302,
        "marketer": 302,
        "sales": 403,
        "viewer": 403,
        "outsider": 302,
        "anonymous": 302,
    }
    assert response.status_code == expected[persona]


def test_a_user_without_any_workspace_gets_a_404_but_can_still_change_their_password(client, db):
    from leadbase.accounts.models import User

    user = User.objects.create_user("lonely@example.org", "a long password")
    client.force_login(user)
    assert client.get(reverse("web:home")).status_code == 404
    assert client.get(reverse("web:password_change")).status_code == 200


def test_get_is_not_allowed_on_actions(client_as, acme):
    client = client_as("owner")
    assert (
        client.get(reverse("web:duplicate_dismiss", kwargs={"pk": acme["pair"]})).status_code == 405
    )
    assert (
        client.get(reverse("web:duplicate_merge", kwargs={"pk": acme["pair"]})).status_code == 405
    )
    assert client.get(reverse("web:logout")).status_code == 405
    assert client.get(reverse("web:switch_workspace")).status_code == 405
