"""All writes to webhooks: endpoints (create, edit, disable, enable, rotate the secret, delete),
the deliveries of an event, a test event and a redelivery.

Every action is atomic and queues its delivery tasks on commit, so a rolled-back change sends
nothing and a worker never looks for a row that is not committed yet. There is no audit table
yet; changes to endpoints are logged with the actor.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from leadbase.accounts.models import User, Workspace
from leadbase.hooks.delivery import queue_attempt
from leadbase.hooks.errors import WebhookError
from leadbase.hooks.models import EVENTS, Delivery, DeliveryStatus, Endpoint
from leadbase.hooks.payloads import TEST_EVENT, envelope, new_event_id

logger = logging.getLogger(__name__)

#: A delivery still "sending" this long after its attempt started lost its worker (killed
#: mid-request): far beyond any request timeout, so a live worker is never second-guessed.
STALE_SENDING = timedelta(minutes=15)
_URL = URLValidator(schemes=["http", "https"])


def clean_url(url: str) -> str:
    """An absolute http(s) URL without credentials, or WebhookError on ``url``; its scheme and
    host in lower case and without the scheme's default port, as they mean the same address
    (``HTTP://Hooks.example:443`` is ``https://hooks.example``): two endpoints for one address
    would get every event twice, with different event ids."""
    url = url.strip()
    try:
        _URL(url)
    except ValidationError:
        raise WebhookError(
            "invalid_url", "Enter a full http:// or https:// address.", "url"
        ) from None
    if len(url) > Endpoint._meta.get_field("url").max_length:
        raise WebhookError(
            "invalid_url", "This address is too long (1,000 characters at most).", "url"
        )
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise WebhookError(
            "invalid_url",
            "Leave the user name and password out of the address; check the signature instead.",
            "url",
        )
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    host = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets
    port = parts.port
    netloc = host if port is None or port == {"http": 80, "https": 443}[scheme] else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path, parts.query, parts.fragment))


def clean_events(events: Iterable[str]) -> list[str]:
    """The known events among ``events`` in their canonical order; an empty list means all."""
    chosen = set(events)
    unknown = chosen - set(EVENTS)
    if unknown:
        raise WebhookError(
            "invalid_event", f"Unknown event: {', '.join(sorted(unknown))}.", "events"
        )
    return [event for event in EVENTS if event in chosen]


def _refuse_taken(workspace_id: int, url: str, current: int | None) -> None:
    """A second endpoint with the same URL would make its receiver get every event twice."""
    if Endpoint.objects.filter(workspace_id=workspace_id, url=url).exclude(pk=current).exists():
        raise WebhookError(
            "duplicate_url",
            "Another endpoint already sends to this address: choose its events there instead.",
            "url",
        )


def do_create_endpoint(
    workspace: Workspace, url: str, events: Iterable[str], *, actor: User | None
) -> Endpoint:
    """Add an endpoint with a new secret (64 hex characters); the caller shows the secret once."""
    url, chosen = clean_url(url), clean_events(events)
    with transaction.atomic():
        _refuse_taken(workspace.pk, url, None)
        endpoint = Endpoint.objects.create(
            workspace=workspace, url=url, events=chosen, secret=secrets.token_hex(32)
        )
    logger.info("Webhook endpoint %s (%s) created by %s", endpoint.pk, url, _label(actor))
    return endpoint


def do_update_endpoint(
    endpoint: Endpoint, *, url: str, events: Iterable[str], actor: User | None
) -> Endpoint:
    """Change the URL and the events; deliveries already queued keep going to the new URL."""
    url, chosen = clean_url(url), clean_events(events)
    with transaction.atomic():
        _refuse_taken(endpoint.workspace_id, url, endpoint.pk)
        Endpoint.objects.filter(pk=endpoint.pk).update(url=url, events=chosen)
    endpoint.url, endpoint.events = url, chosen
    logger.info("Webhook endpoint %s changed by %s", endpoint.pk, _label(actor))
    return endpoint


def do_disable_endpoint(endpoint: Endpoint, *, actor: User | None, reason: str = "") -> Endpoint:
    """Stop sending to the endpoint: no new deliveries; queued ones give up at their turn."""
    reason = (reason or f"Disabled by {_label(actor)}.")[:200]
    with transaction.atomic():
        if not Endpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
            is_active=False, disabled_at=timezone.now(), disabled_reason=reason
        ):
            raise WebhookError("already_disabled", "This endpoint is already disabled.")
    endpoint.refresh_from_db()
    logger.info("Webhook endpoint %s disabled by %s", endpoint.pk, _label(actor))
    return endpoint


def do_enable_endpoint(endpoint: Endpoint, *, actor: User | None) -> Endpoint:
    """Send to the endpoint again, with a clean failure count. Events that happened while it was
    disabled are not sent; a delivery that gave up can be redelivered from its log."""
    with transaction.atomic():
        if not Endpoint.objects.filter(pk=endpoint.pk, is_active=False).update(
            is_active=True, disabled_at=None, disabled_reason="", consecutive_failures=0, failing_since=None
        ):
            raise WebhookError("already_enabled", "This endpoint is already enabled.")
    endpoint.refresh_from_db()
    logger.info("Webhook endpoint %s enabled by %s", endpoint.pk, _label(actor))
    return endpoint


def do_rotate_secret(endpoint: Endpoint, *, actor: User | None) -> str:
    """Replace the secret and return the new one. Attempts from now on are signed with it, so
    the receiver must switch at once; deliveries it refuses meanwhile are retried."""
    secret = secrets.token_hex(32)
    with transaction.atomic():
        Endpoint.objects.filter(pk=endpoint.pk).update(secret=secret)
    endpoint.secret = secret
    logger.info("Webhook endpoint %s secret rotated by %s", endpoint.pk, _label(actor))
    return secret


def do_delete_endpoint(endpoint: Endpoint, *, actor: User | None) -> int:
    """Delete the endpoint and its delivery log; returns how many deliveries went with it.

    Nothing captured is lost: deliveries are copies of events sent out, not records of leads.
    A retry still queued finds no row and is skipped (``attempt_delivery`` claims by id), and
    an attempt in flight writes its outcome nowhere.
    """
    with transaction.atomic():
        deliveries = Delivery.objects.filter(endpoint_id=endpoint.pk).count()
        if not Endpoint.objects.filter(pk=endpoint.pk).delete()[0]:
            raise WebhookError("gone", "This endpoint was deleted already.")
    logger.info(
        "Webhook endpoint %s (%s) deleted with %s deliveries by %s",
        endpoint.pk,
        endpoint.url,
        deliveries,
        _label(actor),
    )
    return deliveries


def do_queue_deliveries(
    endpoints: Sequence[Endpoint], event: str, items: Sequence[dict[str, Any]]
) -> list[Delivery]:
    """One delivery per endpoint and item (the event's ``data``), queued with the write.

    The endpoints need ``workspace`` loaded (``queries.endpoints_for_event`` does it). Rows are
    inserted in bulk: an import announces thousands of leads at once.
    """
    at = timezone.now()
    deliveries = [_delivery(endpoint, event, at, data) for endpoint in endpoints for data in items]
    with transaction.atomic():
        Delivery.objects.bulk_create(deliveries, batch_size=500)
        # The first attempts commit with the delivery rows (and the lead change that caused
        # them): in the database queue, or in the outbox until RQ has them.
        enqueue_first_attempts([delivery.pk for delivery in deliveries])
    return deliveries


def _delivery(endpoint: Endpoint, event: str, at: datetime, data: dict[str, Any]) -> Delivery:
    event_id = new_event_id()
    payload = envelope(event_id, event, endpoint.workspace.slug, at, data)
    return Delivery(endpoint=endpoint, event=event, event_id=event_id, payload=payload)


def enqueue_first_attempts(delivery_ids: list[int]) -> None:
    from leadbase.hooks.tasks import deliver
    from leadbase.tasks import enqueue_many_with_write

    enqueue_many_with_write(deliver, [((delivery_id, 0), {}) for delivery_id in delivery_ids])


def do_send_test_event(endpoint: Endpoint, *, actor: User | None) -> Delivery:
    """Queue a ``webhook.test`` event to the endpoint (whatever it subscribes to). It changes
    nothing, and it is attempted once: the result shows in the delivery log."""
    if not endpoint.is_active:
        raise WebhookError(
            "endpoint_disabled", "Enable the endpoint before sending it a test event."
        )
    data = {"message": "A test event from Leadbase. No lead was changed.", "endpoint": endpoint.url}
    (delivery,) = do_queue_deliveries([endpoint], TEST_EVENT, [data])
    logger.info("Webhook endpoint %s test event queued by %s", endpoint.pk, _label(actor))
    return delivery


def do_redeliver(delivery: Delivery, *, actor: User | None) -> Delivery:
    """Attempt the delivery again now, with the same event id (the receiver can de-duplicate).

    Automatic retries go on after a failure only while the delivery has had fewer than
    ``WEBHOOK_MAX_ATTEMPTS`` attempts. A retry already scheduled loses its claim to this one.
    """
    if not delivery.endpoint.is_active:
        raise WebhookError("endpoint_disabled", "Enable the endpoint before redelivering.")
    status, attempts = delivery.status, delivery.attempts
    if (
        status == DeliveryStatus.SENDING
        and delivery.last_attempt_at > timezone.now() - STALE_SENDING
    ):
        raise WebhookError("in_flight", "This delivery is being sent right now.")
    with transaction.atomic():
        # Conditional on the state the page showed: a worker that moved it meanwhile wins.
        if not Delivery.objects.filter(pk=delivery.pk, status=status, attempts=attempts).update(
            status=DeliveryStatus.PENDING, next_attempt_at=None
        ):
            raise WebhookError(
                "stale", "This delivery changed meanwhile; reload the page and try again."
            )
        queue_attempt(delivery.pk, attempts)
    delivery.refresh_from_db()
    logger.info("Webhook delivery %s redelivered by %s", delivery.pk, _label(actor))
    return delivery


def _label(actor: User | None) -> str:
    return actor.label if actor else "Leadbase"
