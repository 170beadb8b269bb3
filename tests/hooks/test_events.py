"""Lead and capture events become deliveries: one per lead and subscribed endpoint, cheaply."""

from __future__ import annotations

import json
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadbase.capture.signals import submission_spam
from leadbase.hooks.actions import do_create_endpoint, do_disable_endpoint
from leadbase.hooks.models import Delivery, DeliveryStatus
from leadbase.hooks.signing import verify
from leadbase.leads.actions import do_change_stage, do_create_lead, do_update_lead
from leadbase.leads.models import Lead
from leadbase.leads.signals import leads_created
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def test_a_lead_created_through_the_action_is_posted_once_signed(
    personas, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead = do_create_lead(
            personas.workspace,
            {
                "name": "Ada Lovelace",
                "email": "Ada@Example.org",
                "phone": "+44 20 7946 0958",
                "company": "Engines",
            },
            actor=personas.owner,
        ).lead

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    delivery = Delivery.objects.get()
    assert request.path == "/hooks/leadbase"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "Leadbase-Webhooks/1"
    assert request.headers["Leadbase-Event"] == "lead.created"
    assert request.headers["Leadbase-Delivery"] == delivery.event_id
    assert abs(int(request.headers["Leadbase-Timestamp"]) - time.time()) < 30
    assert request.headers["Leadbase-Signature"].startswith("v1=")
    assert verify(
        endpoint.secret,
        request.body,
        request.headers["Leadbase-Timestamp"],
        request.headers["Leadbase-Signature"],
    )
    payload = json.loads(request.body)
    assert payload["id"] == delivery.event_id
    assert payload["type"] == "lead.created"
    assert payload["workspace"] == "acme"
    assert payload["created_at"].endswith("Z")
    data = payload["data"]["lead"]
    assert data["id"] == lead.pk
    assert data["name"] == "Ada Lovelace"
    assert data["email"] == lead.email
    assert data["phone"] == "+442079460958"
    assert data["company"] == "Engines"
    assert data["stage"] == "new"
    assert {"utm_source", "utm_campaign", "consents", "owner", "problems"} <= set(data)
    assert data["url"].endswith(f"/leads/{lead.pk}/")
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        DeliveryStatus.DELIVERED,
        1,
        200,
    )
    assert delivery.delivered_at is not None


def test_the_documented_receiver_check_rejects_a_replayed_delivery(
    personas, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_lead(personas.workspace)
    request = receiver.requests[0]
    sent_at = int(request.headers["Leadbase-Timestamp"])
    args = (
        endpoint.secret,
        request.body,
        request.headers["Leadbase-Timestamp"],
        request.headers["Leadbase-Signature"],
    )

    assert verify(*args, now=sent_at + 60)
    assert not verify(*args, now=sent_at + 6 * 60)


def test_a_batch_gives_one_delivery_per_lead_and_endpoint(
    personas, endpoint, receiver, queue, django_capture_on_commit_callbacks
):
    second = do_create_endpoint(
        personas.workspace, receiver.url + "/second", ["lead.created"], actor=personas.owner
    )
    leads = [make_lead(personas.workspace) for _ in range(3)]
    Delivery.objects.all().delete()  # those of the leads' own creation: this test sends one batch

    with django_capture_on_commit_callbacks(execute=True):
        leads_created.send(
            Lead,
            workspace_id=personas.workspace.pk,
            lead_ids=[lead.pk for lead in leads],
            source="import",
        )

    rows = Delivery.objects.order_by("id")
    assert len(rows) == 6
    for target in (endpoint, second):
        sent = [d.payload["data"]["lead"]["id"] for d in rows if d.endpoint_id == target.pk]
        assert sent == [lead.pk for lead in leads]
    assert len({d.event_id for d in rows}) == 6
    assert sorted(r.args[0] for r in queue.results) == sorted(d.pk for d in rows)


def test_an_endpoint_only_gets_the_events_it_subscribes_to(
    personas, receiver, django_capture_on_commit_callbacks
):
    do_create_endpoint(
        personas.workspace, receiver.url, ["lead.stage_changed"], actor=personas.owner
    )
    with django_capture_on_commit_callbacks(execute=True):
        lead = make_lead(personas.workspace)
        do_update_lead(lead, {"company": "Analytical"}, actor=personas.owner)
    assert not Delivery.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        do_change_stage(lead, "nurturing", actor=personas.owner)

    delivery = Delivery.objects.get()
    assert delivery.event == "lead.stage_changed"
    assert delivery.payload["data"]["stage_change"] == {"from": "new", "to": "nurturing"}
    assert delivery.payload["data"]["lead"]["stage"] == "nurturing"
    assert [r.headers["Leadbase-Event"] for r in receiver.requests] == ["lead.stage_changed"]


def test_an_edited_lead_sends_lead_updated(
    personas, endpoint, receiver, django_capture_on_commit_callbacks
):
    lead = make_lead(personas.workspace)
    with django_capture_on_commit_callbacks(execute=True):
        do_update_lead(lead, {"company": "Analytical"}, actor=personas.owner)
    delivery = Delivery.objects.filter(event="lead.updated").get()
    assert delivery.payload["data"]["lead"]["company"] == "Analytical"


def test_a_spam_submission_sends_submission_spam(
    personas, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submission_spam.send(
            None,
            workspace_id=personas.workspace.pk,
            submission_id=7,
            form_slug="contact",
            reason="honeypot",
        )
    payload = json.loads(receiver.requests[0].body)
    assert payload["type"] == "submission.spam"
    assert payload["data"] == {"submission": {"id": 7, "form": "contact", "reason": "honeypot"}}


def test_a_disabled_endpoint_or_another_workspace_gets_nothing(
    personas, endpoint, receiver, django_capture_on_commit_callbacks
):
    do_create_endpoint(personas.other_workspace, receiver.url, [], actor=personas.outsider)
    do_disable_endpoint(endpoint, actor=personas.owner)
    with django_capture_on_commit_callbacks(execute=True):
        make_lead(personas.workspace)
    assert not Delivery.objects.exists()
    assert receiver.requests == []


def test_a_workspace_without_endpoints_pays_one_query_per_batch(personas):
    with CaptureQueriesContext(connection) as queries:
        leads_created.send(
            Lead, workspace_id=personas.workspace.pk, lead_ids=list(range(1, 5001)), source="import"
        )
    # One plain query, and not even a savepoint (it runs inside the lead's transaction).
    assert len(queries) == 1
    assert "hooks_endpoint" in queries[0]["sql"]
    assert not Delivery.objects.exists()


def test_creating_a_lead_without_endpoints_writes_no_delivery(
    personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_lead(personas.workspace)
    assert not Delivery.objects.exists()


def test_a_batch_with_endpoints_costs_the_same_queries_whatever_its_size(
    personas, endpoint, queue, django_capture_on_commit_callbacks
):
    leads = [make_lead(personas.workspace).pk for _ in range(40)]
    Delivery.objects.all().delete()  # those of the leads' own creation
    counts = []
    for size in (2, 40):
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            leads_created.send(
                Lead, workspace_id=personas.workspace.pk, lead_ids=leads[:size], source="import"
            )
        counts.append(len([q for q in queries if "SAVEPOINT" not in q["sql"]]))
    # Any endpoint?, the endpoints, the leads with their owners, their consents, one insert of
    # the deliveries, one of their tasks in the outbox (this queue is not the database); on
    # commit the outbox rows claimed, read back and deleted.
    assert counts == [9, 9]
    assert Delivery.objects.filter(event="lead.created").count() == 2 + 40


def test_a_lead_gone_before_the_event_is_handled_is_skipped(
    personas, endpoint, queue, django_capture_on_commit_callbacks
):
    lead = make_lead(personas.workspace)
    Delivery.objects.all().delete()  # the one of the lead's own creation
    with django_capture_on_commit_callbacks(execute=True):
        leads_created.send(
            Lead, workspace_id=personas.workspace.pk, lead_ids=[lead.pk, 999_999], source="api"
        )
    assert [d.payload["data"]["lead"]["id"] for d in Delivery.objects.all()] == [lead.pk]


def test_a_failure_to_queue_webhooks_is_logged_and_does_not_fail_the_lead(
    personas, endpoint, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("leadbase.hooks.receivers.leads_data", broken)
    with django_capture_on_commit_callbacks(execute=True):
        lead = make_lead(personas.workspace)
    assert Lead.objects.filter(pk=lead.pk).exists()
    assert not Delivery.objects.exists()
    assert "Could not queue the lead.created webhooks" in caplog.text


def test_a_webhook_delivery_is_written_with_the_lead_and_rolled_back_with_it(
    personas, endpoint
):
    from django.db import transaction

    from leadbase.leads.actions import do_create_lead

    with pytest.raises(RuntimeError), transaction.atomic():
        do_create_lead(personas.workspace, {"name": "Ada Lovelace", "email": "ada@example.org"}, actor=None)
        assert Delivery.objects.count() == 1  # written in the lead's own transaction
        raise RuntimeError("the request failed after the lead was written")
    assert not Delivery.objects.exists()


def test_a_retry_sends_the_lead_as_it_was_when_the_event_happened(
    personas, endpoint, receiver, queue, django_capture_on_commit_callbacks
):
    receiver.respond(503, 200, 200)
    with django_capture_on_commit_callbacks(execute=True):
        lead = make_lead(personas.workspace, company="Engines")
    queue.run(limit=1)  # the first attempt fails
    with django_capture_on_commit_callbacks(execute=True):
        do_update_lead(lead, {"company": "Analytical Engines"}, actor=personas.owner)

    queue.run()

    created = [r for r in receiver.requests if r.headers["Leadbase-Event"] == "lead.created"]
    updated = [r for r in receiver.requests if r.headers["Leadbase-Event"] == "lead.updated"]
    assert len(created) == 2 and created[0].body == created[1].body
    assert json.loads(created[1].body)["data"]["lead"]["company"] == "Engines"
    assert json.loads(updated[0].body)["data"]["lead"]["company"] == "Analytical Engines"
