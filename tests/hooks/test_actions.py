"""Endpoint actions (create, edit, disable, enable, rotate) and redelivery."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from leadbase.hooks.actions import (
    do_create_endpoint,
    do_disable_endpoint,
    do_enable_endpoint,
    do_redeliver,
    do_rotate_secret,
    do_update_endpoint,
)
from leadbase.hooks.errors import WebhookError
from leadbase.hooks.models import Delivery, DeliveryStatus, Endpoint
from leadbase.hooks.signing import verify
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def test_a_new_endpoint_gets_a_random_64_hex_secret(personas):
    one = do_create_endpoint(personas.workspace, "https://example.com/a", [], actor=personas.owner)
    two = do_create_endpoint(personas.workspace, "https://example.com/b", [], actor=personas.owner)
    assert re.fullmatch(r"[0-9a-f]{64}", one.secret)
    assert one.secret != two.secret
    assert one.is_active and one.consecutive_failures == 0


def test_events_are_kept_in_their_canonical_order_and_none_means_all(personas):
    endpoint = do_create_endpoint(
        personas.workspace,
        "https://example.com/",
        ["submission.spam", "lead.created"],
        actor=personas.owner,
    )
    assert endpoint.events == ["lead.created", "submission.spam"]
    assert endpoint.wants("lead.created") and not endpoint.wants("lead.updated")
    everything = do_create_endpoint(
        personas.workspace, "https://example.com/all", [], actor=personas.owner
    )
    assert everything.wants("lead.updated")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "example.com/hook",
        "javascript:alert(1)",
        "https://",
        "http://user:pw@example.com/",
        "https://example.com/" + "a" * 1000,
    ],
)
def test_it_refuses_an_address_that_is_not_plain_http_or_https(personas, url):
    with pytest.raises(WebhookError) as refused:
        do_create_endpoint(personas.workspace, url, [], actor=personas.owner)
    assert (refused.value.code, refused.value.field) == ("invalid_url", "url")
    assert not Endpoint.objects.exists()


def test_it_refuses_an_unknown_event(personas):
    with pytest.raises(WebhookError) as refused:
        do_create_endpoint(
            personas.workspace, "https://example.com/", ["lead.deleted"], actor=personas.owner
        )
    assert (refused.value.code, refused.value.field) == ("invalid_event", "events")


def test_a_second_endpoint_to_the_same_address_is_refused_created_or_edited(personas, client_as):
    first = do_create_endpoint(personas.workspace, "https://example.com/hook", [], actor=personas.owner)
    other = do_create_endpoint(personas.workspace, "https://example.com/other", [], actor=personas.owner)

    for attempt in (
        lambda: do_create_endpoint(personas.workspace, " https://example.com/hook", [], actor=None),
        lambda: do_update_endpoint(other, url="https://example.com/hook", events=[], actor=None),
    ):
        with pytest.raises(WebhookError) as refused:
            attempt()
        assert (refused.value.code, refused.value.field) == ("duplicate_url", "url")
    assert Endpoint.objects.get(pk=other.pk).url == "https://example.com/other"
    do_update_endpoint(first, url="https://example.com/hook", events=["lead.created"], actor=None)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("HTTPS://Example.COM/hook", "https://example.com/hook"),
        ("https://example.com:443/hook", "https://example.com/hook"),
        ("HTTP://127.0.0.1:80/Hook?a=B", "http://127.0.0.1/Hook?a=B"),  # the path and query as typed
        ("http://[::1]:8612/hook", "http://[::1]:8612/hook"),
    ],
)
def test_an_address_is_kept_with_its_scheme_and_host_in_lower_case_and_no_default_port(personas, typed, kept):
    # Typed twice in two cases, one address had two endpoints: every event was delivered twice.
    endpoint = do_create_endpoint(personas.workspace, typed, [], actor=personas.owner)
    assert endpoint.url == kept
    with pytest.raises(WebhookError) as refused:
        do_create_endpoint(personas.workspace, kept, [], actor=personas.owner)
    assert refused.value.code == "duplicate_url"


def test_an_address_differing_in_its_path_case_is_another_endpoint(personas):
    do_create_endpoint(personas.workspace, "https://example.com/hook", [], actor=personas.owner)
    assert do_create_endpoint(personas.workspace, "https://example.com/Hook", [], actor=personas.owner).pk


def test_editing_changes_the_url_and_events_and_keeps_the_secret(personas):
    endpoint = do_create_endpoint(
        personas.workspace, "https://example.com/", [], actor=personas.owner
    )
    secret = endpoint.secret
    do_update_endpoint(
        endpoint, url=" https://example.org/new ", events=["lead.created"], actor=personas.owner
    )
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.secret) == (
        "https://example.org/new",
        ["lead.created"],
        secret,
    )


def test_disabling_and_enabling_are_transitions(personas):
    endpoint = do_create_endpoint(
        personas.workspace, "https://example.com/", [], actor=personas.owner
    )
    Endpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=4)

    do_disable_endpoint(endpoint, actor=personas.owner)
    assert not endpoint.is_active
    assert endpoint.disabled_reason == "Disabled by Owner."
    with pytest.raises(WebhookError, match="already disabled"):
        do_disable_endpoint(endpoint, actor=personas.owner)

    do_enable_endpoint(endpoint, actor=personas.owner)
    assert endpoint.is_active
    assert (endpoint.disabled_at, endpoint.disabled_reason, endpoint.consecutive_failures) == (
        None,
        "",
        0,
    )
    with pytest.raises(WebhookError, match="already enabled"):
        do_enable_endpoint(endpoint, actor=personas.owner)


def test_after_rotating_the_secret_deliveries_are_signed_with_the_new_one(
    personas, endpoint, receiver, django_capture_on_commit_callbacks
):
    old = endpoint.secret
    new = do_rotate_secret(endpoint, actor=personas.owner)
    with django_capture_on_commit_callbacks(execute=True):
        make_lead(personas.workspace)
    request = receiver.requests[0]
    headers = (request.headers["Leadbase-Timestamp"], request.headers["Leadbase-Signature"])
    assert new != old and Endpoint.objects.get(pk=endpoint.pk).secret == new
    assert verify(new, request.body, *headers)
    assert not verify(old, request.body, *headers)


def given_a_delivery(personas, receiver, commits, *statuses: int) -> Delivery:
    receiver.respond(*statuses)
    with commits(execute=True):
        make_lead(personas.workspace)
    return Delivery.objects.get()


def test_redelivering_a_delivery_that_gave_up_sends_it_again_with_the_same_id(
    personas, endpoint, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    delivery = given_a_delivery(personas, receiver, django_capture_on_commit_callbacks, 500)
    assert delivery.status == DeliveryStatus.GAVE_UP

    with django_capture_on_commit_callbacks(execute=True):
        do_redeliver(delivery, actor=personas.owner)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert [r.headers["Leadbase-Delivery"] for r in receiver.requests] == [delivery.event_id] * 2
    assert receiver.requests[0].body == receiver.requests[1].body


def test_a_redelivery_that_fails_past_the_attempt_limit_gives_up_again(
    personas, endpoint, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    delivery = given_a_delivery(personas, receiver, django_capture_on_commit_callbacks, 500, 500)
    with django_capture_on_commit_callbacks(execute=True):
        do_redeliver(delivery, actor=personas.owner)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.GAVE_UP, 2)


def test_redelivery_is_refused_while_an_attempt_is_in_flight_unless_its_worker_died(
    personas, endpoint, receiver, queue, django_capture_on_commit_callbacks
):
    delivery = given_a_delivery(personas, receiver, django_capture_on_commit_callbacks)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, attempts=1, last_attempt_at=timezone.now()
    )
    delivery.refresh_from_db()
    with pytest.raises(WebhookError, match="being sent"):
        do_redeliver(delivery, actor=personas.owner)

    Delivery.objects.filter(pk=delivery.pk).update(
        last_attempt_at=timezone.now() - timedelta(hours=1)
    )
    delivery.refresh_from_db()
    queue.results.clear()
    with django_capture_on_commit_callbacks(execute=True):
        do_redeliver(delivery, actor=personas.owner)
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.PENDING
    assert [(r.task.name, r.args) for r in queue.results] == [("deliver", [delivery.pk, 1])]


def test_redelivery_is_refused_when_the_page_was_stale_or_the_endpoint_disabled(
    personas, endpoint, receiver, queue, django_capture_on_commit_callbacks
):
    delivery = given_a_delivery(personas, receiver, django_capture_on_commit_callbacks)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.DELIVERED, attempts=1)
    with pytest.raises(WebhookError, match="changed meanwhile"):
        do_redeliver(delivery, actor=personas.owner)  # the page showed it pending with 0 attempts

    do_disable_endpoint(endpoint, actor=personas.owner)
    delivery.refresh_from_db()
    delivery.endpoint.refresh_from_db()
    with pytest.raises(WebhookError, match="Enable the endpoint"):
        do_redeliver(delivery, actor=personas.owner)
