"""Creating, reading, updating, listing and searching leads through the API."""

from __future__ import annotations

import re

import pytest

from leadbase.leads.actions import do_add_suppression
from leadbase.leads.models import Consent, Lead, Touch
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def test_it_creates_a_lead_and_returns_it_cleaned(owner_api):
    response = owner_api.post(
        "/leads",
        {
            "name": "  Ada   Lovelace ",
            "email": "Ada@Example.org",
            "phone": "(415) 555-0132",
            "company": "Analytical",
            "job_title": "Engineer",
            "country": "US",
            "utm_source": "newsletter",
            "custom": {"plan": "pro", "seats": 3},
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["outcome"] == "created" and body["warnings"] == []
    assert body["name"] == "Ada Lovelace"
    assert body["email"] == "Ada@example.org" or body["email"].lower() == "ada@example.org"
    assert body["phone"] == "+14155550132"
    assert body["stage"] == "new" and body["source"] == "api"
    assert body["custom"] == {"plan": "pro", "seats": 3}
    assert body["utm_source"] == "newsletter"
    assert Lead.objects.get(pk=body["id"]).source == "api"


def test_a_created_lead_and_channel_read_back_with_the_same_times(owner_api):
    """The create answer wrote times to the microsecond (``…864449Z``) and GET to the
    millisecond (``…864Z``): a client comparing ``updated_at`` saw a change that was not there."""
    created = owner_api.post("/leads", {"name": "Ada Lovelace", "email": "ada@example.org"}).json()
    read = owner_api.get(f"/leads/{created['id']}").json()
    assert (created["created_at"], created["updated_at"]) == (read["created_at"], read["updated_at"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z", created["created_at"])

    channel = owner_api.post("/channels", {"platform": "instagram", "handle": "acme"}).json()
    listed = owner_api.get("/channels").json()["items"]
    assert [c["created_at"] for c in listed if c["id"] == channel["id"]] == [channel["created_at"]]


def test_the_timeline_says_which_token_created_the_lead(owner_api):
    body = owner_api.post("/leads", {"name": "Ada Lovelace", "email": "ada@example.org"}).json()
    touch = Touch.objects.get(lead_id=body["id"])
    assert touch.actor_label.startswith("API token lb_")
    assert body["last_touch"]["source"] == "api"


def test_a_second_post_with_the_same_email_merges_into_the_same_lead(owner_api):
    first = owner_api.post("/leads", {"name": "Ada Lovelace", "email": "ada@example.org"}).json()
    second = owner_api.post(
        "/leads", {"name": "Ada Lovelace", "email": "ADA@example.org", "company": "Analytical"}
    )
    assert second.status_code == 201
    assert second.json()["outcome"] == "merged"
    assert second.json()["id"] == first["id"]
    assert second.json()["company"] == "Analytical"
    assert Lead.objects.count() == 1


def test_a_bad_phone_next_to_a_good_email_is_kept_with_a_warning(owner_api):
    body = owner_api.post(
        "/leads", {"name": "Ada Lovelace", "email": "ada@example.org", "phone": "12"}
    ).json()
    assert body["phone"] is None
    assert (
        body["warnings"][0]["field"] == "phone" and body["warnings"][0]["code"] == "invalid_phone"
    )
    assert body["problems"][0]["field"] == "phone" and body["problems"][0]["value"] == "12"


def test_it_records_consents_with_their_proof(owner_api):
    body = owner_api.post(
        "/leads",
        {
            "name": "Ada Lovelace",
            "email": "ada@example.org",
            "consents": {
                "email_marketing": {
                    "status": "granted",
                    "text": "Send me news",
                    "ip": "203.0.113.7",
                },
                "calls": "withdrawn",
            },
        },
    ).json()
    assert [(c["purpose"], c["status"]) for c in body["consents"]] == [
        ("calls", "withdrawn"),
        ("email_marketing", "granted"),
    ]
    consent = Consent.objects.get(lead_id=body["id"], purpose="email_marketing")
    assert (consent.method, consent.text, consent.ip) == ("api", "Send me news", "203.0.113.7")


def test_a_lead_of_another_workspace_is_not_found(api_as, personas):
    theirs = make_lead(personas.other_workspace)
    response = api_as("owner").get(f"/leads/{theirs.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert api_as("owner").patch(f"/leads/{theirs.pk}", {"company": "X"}).status_code == 404
    assert theirs.pk not in [lead["id"] for lead in api_as("owner").get("/leads").json()["items"]]


def test_a_sales_token_sees_only_the_leads_its_user_owns(api_as, personas):
    mine = make_lead(personas.workspace, owner=personas.sales)
    other = make_lead(personas.workspace)
    client = api_as("sales")
    assert [lead["id"] for lead in client.get("/leads").json()["items"]] == [mine.pk]
    assert client.get(f"/leads/{mine.pk}").status_code == 200
    assert client.get(f"/leads/{other.pk}").status_code == 404


def test_it_gets_one_lead_with_its_owner(owner_api, personas):
    lead = make_lead(personas.workspace, owner=personas.sales)
    body = owner_api.get(f"/leads/{lead.pk}").json()
    assert body["id"] == lead.pk
    assert body["owner"]["email"] == "sales@acme.test"


def test_it_updates_fields_and_custom_keys(owner_api, personas):
    lead = make_lead(personas.workspace, custom={"plan": "free", "seats": 1})
    response = owner_api.patch(
        f"/leads/{lead.pk}", {"company": "Analytical", "custom": {"plan": "pro", "seats": None}}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["company"] == "Analytical"
    assert response.json()["custom"] == {"plan": "pro"}
    assert Touch.objects.filter(lead=lead, kind="updated").exists()


def test_an_edit_from_a_lead_read_before_another_edit_keeps_the_other_edit(personas):
    """Two PATCHes at once each read the lead first: the second written overwrote the first's
    field and custom keys (both answered 200). The edit is applied to the lead as it is when its
    write starts, and writes only what it changes."""
    from leadbase.api.actions import do_edit_lead

    lead = make_lead(personas.workspace, custom={"k0": 0})
    stale = Lead.objects.get(pk=lead.pk)  # read by the second request before the first wrote
    do_edit_lead(lead, {"company": "Analytical", "custom": {"k1": 1}}, stage=None, reason="", actor=personas.owner)

    do_edit_lead(stale, {"job_title": "Countess", "custom": {"k2": 2, "k0": None}}, stage=None, reason="",
                 actor=personas.owner)

    lead.refresh_from_db()
    assert (lead.company, lead.job_title) == ("Analytical", "Countess")
    assert lead.custom == {"k1": 1, "k2": 2}
    second = Touch.objects.filter(lead=lead, kind="updated").order_by("-id").first()
    assert set(second.data["changes"]) == {"job_title", "custom"}  # the timeline says what it changed


def test_an_unknown_country_is_refused_naming_the_field_and_changes_nothing(owner_api, personas):
    # It was kept as custom.country and the lead's country cleared, silently.
    lead = make_lead(personas.workspace, country="GB")
    response = owner_api.patch(f"/leads/{lead.pk}", {"country": "Narnia", "company": "Acme"})
    assert response.status_code == 422
    assert response.json()["detail"] == [{
        "field": "country", "code": "invalid_country",
        "message": "“Narnia” is not a country Leadbase knows: give its ISO code (DE) or English name (Germany).",
    }]
    lead.refresh_from_db()
    assert (lead.country, lead.company, lead.custom) == ("GB", "", {})
    created = owner_api.post("/leads", {"name": "Cy Dee", "email": "cy@example.org", "country": "Narnia"})
    assert created.status_code == 422 and created.json()["detail"][0]["field"] == "country"
    assert owner_api.patch(f"/leads/{lead.pk}", {"country": "Germany"}).json()["country"] == "DE"
    assert owner_api.patch(f"/leads/{lead.pk}", {"country": ""}).json()["country"] == ""


def test_custom_fields_read_from_the_api_go_back_in_a_patch(owner_api, personas):
    # A form's tags are kept as a list in custom: a lead read and written back was refused.
    lead = make_lead(personas.workspace, custom={"tags": ["spring", "webinar"], "plan": "pro"})
    custom = owner_api.get(f"/leads/{lead.pk}").json()["custom"]
    assert custom == {"tags": ["spring", "webinar"], "plan": "pro"}
    response = owner_api.patch(f"/leads/{lead.pk}", {"custom": {**custom, "tags": ["spring"]}})
    assert response.status_code == 200, response.json()
    assert response.json()["custom"] == {"tags": ["spring"], "plan": "pro"}
    for bad in ([1, 2], [["nested"]], ["x" * 201], ["x"] * 101, {"a": 1}):
        refused = owner_api.patch(f"/leads/{lead.pk}", {"custom": {"tags": bad}})
        assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "custom.tags", bad


def test_a_patch_with_a_contact_typed_wrong_is_refused_and_changes_nothing(owner_api, personas):
    # It answered 200 with "email": null: the valid address was replaced by the typo, kept aside.
    lead = make_lead(personas.workspace, email="ada@example.org", phone="+44 20 7946 0958")
    for body, field in (({"email": "ada@example,org"}, "email"), ({"phone": "+1 415"}, "phone"),
                        ({"email": "ada@example,org", "company": "Engines"}, "email")):
        response = owner_api.patch(f"/leads/{lead.pk}", body)
        assert response.status_code == 422, body
        (error,) = response.json()["detail"]
        assert (error["field"], error["code"]) == (field, f"invalid_{field}"), body
    lead.refresh_from_db()
    assert (lead.email_key, lead.phone_e164, lead.company, lead.problems) == (
        "ada@example.org", "+442079460958", "", {}
    )
    cleared = owner_api.patch(f"/leads/{lead.pk}", {"email": ""})  # taking one away stays possible
    assert cleared.status_code == 200 and cleared.json()["email"] is None


def test_it_changes_the_stage(owner_api, personas):
    lead = make_lead(personas.workspace)
    body = owner_api.patch(f"/leads/{lead.pk}", {"stage": "sales_ready"}).json()
    assert body["stage"] == "sales_ready"
    assert Touch.objects.filter(lead=lead, kind="stage_changed").exists()


def test_disqualifying_needs_a_reason_and_changes_nothing_without_one(owner_api, personas):
    lead = make_lead(personas.workspace)
    response = owner_api.patch(f"/leads/{lead.pk}", {"company": "Acme", "stage": "disqualified"})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "field": "reason",
            "code": "reason_required",
            "message": "Say why the lead is disqualified.",
        }
    ]
    lead.refresh_from_db()
    assert (lead.stage, lead.company) == ("new", ""), (
        "the field change was rolled back with the stage"
    )
    ok = owner_api.patch(
        f"/leads/{lead.pk}", {"stage": "disqualified", "reason": "Competitor"}
    ).json()
    assert (ok["stage"], ok["disqualified_reason"]) == ("disqualified", "Competitor")


@pytest.mark.parametrize("body", [{"reason": "Competitor"}, {"stage": "nurturing", "reason": "Competitor"}])
def test_a_reason_without_disqualifying_is_refused_rather_than_dropped(owner_api, personas, body):
    lead = make_lead(personas.workspace)
    response = owner_api.patch(f"/leads/{lead.pk}", {**body, "company": "Acme"})
    assert response.status_code == 422
    assert response.json()["detail"][0] | {"message": ""} == {
        "field": "reason", "code": "reason_without_disqualified", "message": ""}
    lead.refresh_from_db()
    assert (lead.stage, lead.company) == ("new", "")


def test_an_update_is_cleaned_like_a_create(owner_api, personas):
    lead = make_lead(personas.workspace)
    response = owner_api.patch(f"/leads/{lead.pk}", {"email": "not an address", "phone": ""})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "email"


def test_cursor_pages_list_every_lead_exactly_once_newest_first(owner_api, personas):
    ids = [make_lead(personas.workspace).pk for _ in range(23)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        body = owner_api.get("/leads", params).json()
        seen += [lead["id"] for lead in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)
    assert pages == 5


def test_it_filters_by_stage(owner_api, personas):
    lead = make_lead(personas.workspace)
    make_lead(personas.workspace)
    owner_api.patch(f"/leads/{lead.pk}", {"stage": "nurturing"})
    assert [x["id"] for x in owner_api.get("/leads", {"stage": "nurturing"}).json()["items"]] == [
        lead.pk
    ]


@pytest.mark.parametrize(
    "q",
    [
        "ada",
        "ADA LOVE",
        "lovelace",
        "ada.l@",
        "ADA.L@EXAMPLE",
        "415 555",
        "+1415555",
        "(415) 555-01",
    ],
)
def test_it_searches_by_name_family_name_email_and_phone_prefix(owner_api, personas, q):
    ada = make_lead(
        personas.workspace, name="Ada Lovelace", email="ada.l@example.org", phone="+1 415 555 0132"
    )
    make_lead(
        personas.workspace, name="Grace Hopper", email="grace@example.org", phone="+1 212 555 0100"
    )
    assert [lead["id"] for lead in owner_api.get("/leads", {"q": q}).json()["items"]] == [ada.pk]


def test_a_search_pages_with_a_cursor_too(owner_api, personas):
    ids = {
        make_lead(personas.workspace, name=f"Ada Lovelace{i}", email=f"ada{i}@example.org").pk
        for i in range(7)
    }
    first = owner_api.get("/leads", {"q": "ada", "limit": 4}).json()
    second = owner_api.get(
        "/leads", {"q": "ada", "limit": 4, "cursor": first["next_cursor"]}
    ).json()
    assert second["next_cursor"] is None
    assert {x["id"] for x in first["items"] + second["items"]} == ids


def test_a_list_page_takes_a_fixed_number_of_queries(
    owner_api, personas, django_assert_max_num_queries
):
    for _ in range(30):
        make_lead(personas.workspace)
    owner_api.get("/leads")  # the token's first request of the minute opens its rate window
    # token, membership, rate count, the page, its full rows, their consents
    with django_assert_max_num_queries(6):
        assert len(owner_api.get("/leads", {"limit": 30}).json()["items"]) == 30


@pytest.mark.parametrize(
    ("record", "suppressed", "field"),
    [
        ({"email": "ada@example.org"}, [("email", "ada@example.org", "unsubscribed")], "email"),
        ({"phone": "+1 415 555 0132"}, [("phone", "+14155550132", "do_not_call")], "phone"),
        (
            {"email": "ada@example.org", "phone": "+1 415 555 0132"},
            [("email", "ada@example.org", "bounced"), ("phone", "+14155550132", "do_not_call")],
            "email",
        ),
        (
            {"email": "ada@example.org", "phone": "+1 415 555 0132"},
            [("phone", "+14155550132", "erased")],
            "email",
        ),
    ],
)
def test_a_suppressed_person_is_refused_naming_the_field(
    owner_api, personas, record, suppressed, field
):
    for kind, value, reason in suppressed:
        do_add_suppression(personas.workspace, kind, value, reason)
    response = owner_api.post("/leads", {"name": "Ada Lovelace", **record})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "suppressed"
    assert [(d["field"], d["code"]) for d in body["detail"]] == [(field, "suppressed")]
    assert not Lead.objects.exists()


def test_an_email_address_is_searched_only_with_its_at_sign(owner_api, personas):
    ada = make_lead(personas.workspace, name="Grace Hopper", email="ada.rev@example.org")
    assert owner_api.get("/leads", {"q": "ada.rev"}).json()["items"] == []
    found = owner_api.get("/leads", {"q": "ada.rev@"}).json()["items"]
    assert [lead["id"] for lead in found] == [ada.pk]
