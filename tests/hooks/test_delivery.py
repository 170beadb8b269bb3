"""Delivery attempts against a real HTTP receiver: retries with backoff, giving up, disabling
the endpoint, redirects, timeouts, and no double delivery when two workers race."""

from __future__ import annotations

import re
import socket
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from leadbase.hooks.actions import do_disable_endpoint, do_queue_deliveries, do_send_test_event
from leadbase.hooks.delivery import MAX_DELAY, attempt_delivery, retry_delay
from leadbase.hooks.models import Delivery, DeliveryStatus, Endpoint
from leadbase.hooks.queries import endpoints_for_event

pytestmark = pytest.mark.django_db


def queue_one(endpoint: Endpoint, django_capture_on_commit_callbacks) -> Delivery:
    """A lead.created delivery to ``endpoint``, committed, its first attempt queued."""
    (target,) = endpoints_for_event(endpoint.workspace_id, "lead.created")
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = do_queue_deliveries([target], "lead.created", [{"lead": {"id": 1}}])
    return delivery


def test_the_backoff_doubles_from_30_seconds_and_stops_at_6_hours():
    def middle() -> float:  # no jitter
        return 0.5

    assert [retry_delay(n, middle).total_seconds() for n in (1, 2, 3, 4, 8)] == [
        30,
        60,
        120,
        240,
        3840,
    ]
    assert retry_delay(10, middle) == timedelta(seconds=30 * 2**9)
    assert retry_delay(11, middle) == retry_delay(1000, middle) == MAX_DELAY == timedelta(hours=6)


def test_the_backoff_jitter_stays_within_a_fifth_either_way():
    assert retry_delay(3, lambda: 0.0) == timedelta(seconds=96)
    assert retry_delay(3, lambda: 0.999999).total_seconds() == pytest.approx(144)
    assert retry_delay(12, lambda: 0.999999) == MAX_DELAY


def test_a_failed_attempt_is_recorded_and_retried_later_with_backoff(
    endpoint, receiver, queue, django_capture_on_commit_callbacks
):
    receiver.respond(503)
    delivery = queue_one(endpoint, django_capture_on_commit_callbacks)
    (first,) = queue.results
    assert first.task.run_after is None and first.args == [delivery.pk, 0]

    before = timezone.now()
    queue.run(limit=1)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert (delivery.attempts, delivery.response_status) == (1, 503)
    assert delivery.error.startswith("HTTP 503")
    assert (
        before + timedelta(seconds=24)
        <= delivery.next_attempt_at
        <= timezone.now() + timedelta(seconds=36)
    )
    (retry,) = queue.results
    assert retry.args == [delivery.pk, 1]
    assert retry.task.run_after == delivery.next_attempt_at
    assert Endpoint.objects.get(pk=endpoint.pk).consecutive_failures == 1


def test_it_gives_up_after_the_maximum_number_of_attempts(
    endpoint, receiver, queue, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.respond(500, 500, 500, 500)
    delivery = queue_one(endpoint, django_capture_on_commit_callbacks)

    assert queue.run() == 3

    delivery.refresh_from_db()
    assert len(receiver.requests) == 3
    assert {r.headers["Leadbase-Delivery"] for r in receiver.requests} == {delivery.event_id}
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryStatus.GAVE_UP,
        3,
        None,
    )
    assert queue.results == []


def test_a_success_after_failures_resets_the_endpoints_failure_count(
    endpoint, receiver, queue, django_capture_on_commit_callbacks
):
    receiver.respond(500, 502, 204)
    delivery = queue_one(endpoint, django_capture_on_commit_callbacks)

    queue.run()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        DeliveryStatus.DELIVERED,
        3,
        204,
    )
    assert delivery.error == ""
    assert Endpoint.objects.get(pk=endpoint.pk).consecutive_failures == 0


def test_the_endpoint_is_disabled_after_too_many_failed_attempts_in_a_row(
    endpoint, receiver, queue, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_DISABLE_AFTER, settings.WEBHOOK_DISABLE_HOURS = 3, 0  # on the count alone
    receiver.respond(*[500] * 10)
    first = queue_one(endpoint, django_capture_on_commit_callbacks)
    second = queue_one(endpoint, django_capture_on_commit_callbacks)

    queue.run()

    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_at is not None
    assert endpoint.disabled_reason == "Disabled automatically after 3 failed attempts in a row."
    assert len(receiver.requests) == 3
    first.refresh_from_db()
    second.refresh_from_db()
    assert {first.status, second.status} == {DeliveryStatus.GAVE_UP}
    disabled_one = next(d for d in (first, second) if "endpoint is disabled" in d.error)
    assert re.search(r"[.!?] The endpoint is disabled; no more retries\.$", disabled_one.error), disabled_one.error
    assert first.attempts + second.attempts == 3  # the requests made; a give-up unsent is none
    assert endpoints_for_event(endpoint.workspace_id, "lead.created") == []


def test_a_burst_of_failures_disables_the_endpoint_only_once_it_has_been_failing_for_hours(
    endpoint, receiver, queue, settings, django_capture_on_commit_callbacks
):
    # An import's new leads met by a receiver down for minutes made 20 failures at once: the
    # endpoint was disabled and every later event lost to it, though retries would get through.
    settings.WEBHOOK_DISABLE_AFTER, settings.WEBHOOK_DISABLE_HOURS = 3, 24
    receiver.respond(*[500] * 10)
    deliveries = [queue_one(endpoint, django_capture_on_commit_callbacks) for _ in range(4)]

    queue.run(limit=4)  # the burst's first attempts: 4 failures in a row, just now

    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_failures == 4
    assert timezone.now() - endpoint.failing_since < timedelta(minutes=1)
    assert {d.status for d in Delivery.objects.filter(pk__in=[d.pk for d in deliveries])} == {DeliveryStatus.FAILED}

    Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(hours=25))
    queue.run(limit=1)  # a retry fails a day later: failing for more than 24 hours

    endpoint.refresh_from_db()
    assert not endpoint.is_active
    # what happened: five failures, the first 25 hours before the last
    assert endpoint.disabled_reason == "Disabled automatically after 5 failed attempts in a row over 25 hours."


def test_a_delivery_to_an_endpoint_disabled_meanwhile_gives_up_unsent(
    personas, endpoint, receiver, queue, django_capture_on_commit_callbacks
):
    delivery = queue_one(endpoint, django_capture_on_commit_callbacks)
    do_disable_endpoint(endpoint, actor=personas.owner)

    queue.run()

    delivery.refresh_from_db()
    assert receiver.requests == []
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.GAVE_UP, 0)
    assert delivery.error == "Not sent: the endpoint is disabled."


def test_a_redirect_is_recorded_and_not_followed(
    endpoint, receiver, queue, django_capture_on_commit_callbacks
):
    receiver.respond(302)
    receiver.location = "http://127.0.0.1:9/elsewhere"
    delivery = queue_one(endpoint, django_capture_on_commit_callbacks)

    queue.run(limit=1)

    delivery.refresh_from_db()
    assert len(receiver.requests) == 1
    assert (delivery.status, delivery.response_status) == (DeliveryStatus.FAILED, 302)
    assert (
        delivery.error
        == "Redirect to http://127.0.0.1:9/elsewhere not followed; enter the final URL instead."
    )


def test_a_redirect_without_a_location_says_so(endpoint, receiver, queue, django_capture_on_commit_callbacks):
    receiver.respond(302)
    delivery = queue_one(endpoint, django_capture_on_commit_callbacks)

    queue.run(limit=1)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status) == (DeliveryStatus.FAILED, 302)
    assert delivery.error == "HTTP 302: a redirect without a Location header, not followed."


def test_an_unreachable_endpoint_is_recorded_as_a_failure(
    endpoint, queue, django_capture_on_commit_callbacks
):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    Endpoint.objects.filter(pk=endpoint.pk).update(url=f"http://127.0.0.1:{closed_port}/")
    delivery = queue_one(endpoint, django_capture_on_commit_callbacks)

    assert attempt_delivery(delivery.pk, 0) == DeliveryStatus.FAILED

    delivery.refresh_from_db()
    assert delivery.response_status is None
    assert "refused" in delivery.error.lower()


def test_a_receiver_slower_than_the_timeout_is_a_failure(
    endpoint, receiver, queue, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    receiver.delay = 1.5
    delivery = queue_one(endpoint, django_capture_on_commit_callbacks)

    assert attempt_delivery(delivery.pk, 0) == DeliveryStatus.FAILED

    delivery.refresh_from_db()
    assert delivery.error == "No answer within 1 s."


def test_a_test_event_is_attempted_once_and_not_retried(
    personas, endpoint, receiver, queue, django_capture_on_commit_callbacks
):
    receiver.respond(500)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = do_send_test_event(endpoint, actor=personas.owner)

    queue.run()

    delivery.refresh_from_db()
    assert receiver.requests[0].headers["Leadbase-Event"] == "webhook.test"
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.GAVE_UP, 1)


def test_running_the_same_attempt_twice_sends_once(
    endpoint, receiver, queue, django_capture_on_commit_callbacks
):
    delivery = queue_one(endpoint, django_capture_on_commit_callbacks)

    assert attempt_delivery(delivery.pk, 0) == DeliveryStatus.DELIVERED
    assert attempt_delivery(delivery.pk, 0) == "skipped"

    assert len(receiver.requests) == 1


def test_a_task_left_from_an_earlier_attempt_cannot_claim_the_retry(
    endpoint, receiver, queue, django_capture_on_commit_callbacks
):
    receiver.respond(500)
    delivery = queue_one(endpoint, django_capture_on_commit_callbacks)
    attempt_delivery(delivery.pk, 0)

    assert attempt_delivery(delivery.pk, 0) == "skipped"
    assert len(receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_a_second_worker_cannot_send_a_delivery_already_in_flight(
    personas, endpoint, receiver, queue
):
    (target,) = endpoints_for_event(endpoint.workspace_id, "lead.created")
    (delivery,) = do_queue_deliveries([target], "lead.created", [{"lead": {"id": 1}}])
    rival: list[str] = []

    def second_worker() -> None:
        # Runs in the receiver's thread, with its own database connection, while the first
        # worker waits for this very response.
        try:
            rival.append(attempt_delivery(delivery.pk, 0))
        finally:
            connections.close_all()

    receiver.during = second_worker

    assert attempt_delivery(delivery.pk, 0) == DeliveryStatus.DELIVERED

    assert rival == ["skipped"]
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)
