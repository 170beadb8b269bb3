"""A lead made through the API or a form reaches a subscribed endpoint as docs/webhooks.md says:
one ``lead.created`` delivery, POSTed to a real HTTP receiver on 127.0.0.1, signed so that the
receiver's own check (computed here from the docs, not with Leadbase's code) accepts it."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from django.test import Client

from leadbase.capture.actions import do_create_form
from leadbase.hooks.actions import do_create_endpoint
from leadbase.hooks.models import Delivery, Endpoint
from leadbase.leads.models import Lead
from tests.receiver import Receiver

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("immediate_tasks")]


ADA = {"name": "Ada Lovelace", "email": "ada@example.org", "company": "Analytical Engines"}


@pytest.fixture
def endpoint(personas, receiver: Receiver) -> Endpoint:
    return do_create_endpoint(
        personas.workspace, receiver.url, ["lead.created"], actor=personas.owner
    )


@pytest.fixture
def contact_form(personas):
    return do_create_form(
        personas.workspace,
        {
            "name": "Contact",
            "fields": [{"key": "name"}, {"key": "email", "type": "email"}, {"key": "company"}],
        },
        actor=personas.owner,
    )


def receiver_accepts(secret: str, body: bytes, headers) -> bool:
    """The check docs/webhooks.md tells a receiver to make, written out from the docs."""
    timestamp, signature = headers["Leadbase-Timestamp"], headers["Leadbase-Signature"]
    if abs(time.time() - int(timestamp)) > 300:
        return False
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v1={mac}", signature)


def assert_one_signed_lead_created(endpoint: Endpoint, receiver: Receiver, lead: Lead) -> dict:
    """The one delivery of ``lead``, as recorded and as received; returns the received lead."""
    delivery = Delivery.objects.get()
    assert (delivery.endpoint, delivery.event) == (endpoint, "lead.created")
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 1, 200)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.path == "/hooks/leadbase"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "Leadbase-Webhooks/1"
    assert request.headers["Leadbase-Event"] == "lead.created"
    assert request.headers["Leadbase-Delivery"] == delivery.event_id
    assert abs(int(request.headers["Leadbase-Timestamp"]) - time.time()) < 60
    assert receiver_accepts(endpoint.secret, request.body, request.headers)
    assert not receiver_accepts("0" * 64, request.body, request.headers)  # another secret
    assert not receiver_accepts(endpoint.secret, request.body + b" ", request.headers)
    payload = json.loads(request.body)
    assert payload == delivery.payload
    assert (payload["id"], payload["type"], payload["workspace"]) == (
        delivery.event_id,
        "lead.created",
        "acme",
    )
    sent = payload["data"]["lead"]
    assert (sent["id"], sent["name"], sent["email"], sent["company"]) == (
        lead.pk,
        "Ada Lovelace",
        lead.email,
        "Analytical Engines",
    )
    return sent


# --- through the API --------------------------------------------------------------------------


def test_a_lead_posted_with_a_write_token_is_delivered_signed(
    owner_api, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_api.post("/leads", ADA)

    assert response.status_code == 201, response.json()
    lead = Lead.objects.get(pk=response.json()["id"])
    sent = assert_one_signed_lead_created(endpoint, receiver, lead)
    assert (sent["source"], sent["stage"]) == ("api", "new")


def test_a_webhook_shows_the_lead_as_the_api_returns_it(
    owner_api, endpoint, receiver, django_capture_on_commit_callbacks
):
    # The events wrote UTM tags as one object and left out consents, owner and problems: a
    # receiver that also reads the API needed two parsers for one lead.
    body = {**ADA, "phone": "12", "utm_source": "instagram", "utm_campaign": "spring",
            "consents": {"email_marketing": {"status": "granted", "text": "News, monthly"}}}
    with django_capture_on_commit_callbacks(execute=True):
        created = owner_api.post("/leads", body)

    assert created.status_code == 201, created.json()
    (request,) = receiver.requests
    sent = json.loads(request.body)["data"]["lead"]
    read = owner_api.get(f"/leads/{created.json()['id']}").json()
    assert sent.pop("url").endswith(f"/leads/{read['id']}/")
    assert sent == read
    assert (sent["utm_source"], sent["owner"], sent["consents"][0]["status"]) == ("instagram", None, "granted")
    assert [p["field"] for p in sent["problems"]] == ["phone"]  # "12" kept for correction


def test_a_lead_posted_again_merges_and_sends_no_second_lead_created(
    owner_api, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        owner_api.post("/leads", ADA)
        again = owner_api.post("/leads", {**ADA, "job_title": "Engineer"})

    assert again.json()["outcome"] == "merged"
    assert Delivery.objects.count() == 1
    assert [r.headers["Leadbase-Event"] for r in receiver.requests] == ["lead.created"]


def test_a_read_token_creates_nothing_so_nothing_is_sent(
    api_as, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as("owner", scope="read").post("/leads", ADA)

    assert response.status_code == 403
    assert not Delivery.objects.exists()
    assert receiver.requests == []


def test_a_patch_of_fields_and_stage_sends_both_events_with_the_lead_as_saved(
    owner_api, personas, receiver, django_capture_on_commit_callbacks
):
    # lead.updated was read between the two changes: it showed the new company at the old stage,
    # a state the lead never had once the request was done.
    do_create_endpoint(
        personas.workspace, receiver.url, ["lead.updated", "lead.stage_changed"],
        actor=personas.owner,
    )
    lead = Lead.objects.get(pk=owner_api.post("/leads", ADA).json()["id"])
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_api.patch(
            f"/leads/{lead.pk}", {"company": "Difference Engines", "stage": "sales_ready"}
        )

    assert response.status_code == 200, response.json()
    sent = {r.headers["Leadbase-Event"]: json.loads(r.body)["data"] for r in receiver.requests}
    assert sorted(sent) == ["lead.stage_changed", "lead.updated"]
    for data in sent.values():
        assert (data["lead"]["company"], data["lead"]["stage"]) == (
            "Difference Engines", "sales_ready"
        )
    assert sent["lead.stage_changed"]["stage_change"] == {"from": "new", "to": "sales_ready"}

    with django_capture_on_commit_callbacks(execute=True):  # the same again changes nothing
        owner_api.patch(f"/leads/{lead.pk}", {"company": "Difference Engines", "stage": "sales_ready"})
    assert len(receiver.requests) == 2


# --- through a form ---------------------------------------------------------------------------


@pytest.mark.parametrize("as_json", [True, False])
def test_a_lead_made_by_a_form_post_is_delivered_signed(
    contact_form, endpoint, receiver, django_capture_on_commit_callbacks, as_json
):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        if as_json:
            response = client.post("/f/contact", json.dumps(ADA), content_type="application/json")
        else:
            response = client.post("/f/contact", ADA)

    assert response.status_code == 200
    lead = Lead.objects.get()
    sent = assert_one_signed_lead_created(endpoint, receiver, lead)
    assert (sent["source"], sent["source_ref"]) == ("form", "contact")


def test_a_form_post_the_form_refuses_sends_nothing(
    contact_form, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            "/f/contact",
            json.dumps({**ADA, "email": "not-an-address"}),
            content_type="application/json",
        )

    assert response.status_code == 400
    assert not Lead.objects.exists()
    assert not Delivery.objects.exists()
    assert receiver.requests == []


def test_an_endpoint_of_another_workspace_gets_nothing(
    personas, contact_form, receiver, django_capture_on_commit_callbacks
):
    do_create_endpoint(
        personas.other_workspace, receiver.url, ["lead.created"], actor=personas.outsider
    )

    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/f/contact", ADA)

    assert Lead.objects.count() == 1
    assert not Delivery.objects.exists()
    assert receiver.requests == []
