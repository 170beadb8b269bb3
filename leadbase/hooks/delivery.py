"""One delivery attempt: claim it, sign and POST the payload, record the outcome, plan the retry.

Concurrency. The same attempt may be run twice: the task queues deliver at least once, and
"Redeliver" queues a second task for a delivery that may already have one. So every attempt is
claimed with a conditional UPDATE on ``(status, attempts)``: of two workers holding the same task
only one changes the row, and the other returns without sending. ``attempts`` only ever grows,
so a task left over from an earlier attempt can never match again. No transaction is open
while the request is in flight (a slow receiver must not hold the database), and the outcome is
written under the same kind of condition (still ``sending``, same attempt), so a late worker
cannot overwrite a newer state.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from leadbase.hooks.models import Delivery, DeliveryStatus, Endpoint
from leadbase.hooks.payloads import TEST_EVENT
from leadbase.hooks.signing import sign

logger = logging.getLogger(__name__)

USER_AGENT = "Leadbase-Webhooks/1"
#: Wait before the first retry; it doubles on each further failure up to MAX_DELAY.
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
#: ± this fraction of random spread, so retries after an outage do not all arrive together.
JITTER = 0.2
_ERROR_BODY_CHARS = 200


@dataclass(frozen=True)
class Outcome:
    """The answer to one POST: the HTTP status (None without a response) and what went wrong."""

    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def queue_attempt(delivery_id: int, attempt: int, *, run_after: datetime | None = None) -> None:
    """Queue attempt ``attempt + 1`` of the delivery now, or not before ``run_after``, with the
    caller's write (``enqueue_with_write``)."""
    # Imported here, not at the top: defining a task builds the task backend from the settings,
    # which must not happen while the apps load (the tests, for one, choose a backend after).
    from leadbase.hooks.tasks import deliver
    from leadbase.tasks import enqueue_with_write

    enqueue_with_write(deliver.using(run_after=run_after) if run_after else deliver, delivery_id, attempt)


def retry_delay(attempts: int, rand: Callable[[], float] = random.random) -> timedelta:
    """How long to wait after ``attempts`` failed attempts: 30 s × 2^(attempts − 1), ± 20 %
    jitter, never more than 6 hours."""
    # The exponent is capped (2^16 × 30 s is far past MAX_DELAY) so no timedelta overflows.
    base = min(BASE_DELAY * 2 ** min(max(attempts - 1, 0), 16), MAX_DELAY)
    return min(base * (1 - JITTER + 2 * JITTER * rand()), MAX_DELAY)


def request_headers(
    event: str, event_id: str, secret: str, body: bytes, timestamp: int
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Leadbase-Event": event,
        "Leadbase-Delivery": event_id,
        "Leadbase-Timestamp": str(timestamp),
        "Leadbase-Signature": sign(secret, timestamp, body),
    }


def encode(payload: dict) -> bytes:
    """The exact bytes sent and signed (compact JSON, UTF-8)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is recorded as a failure, never followed: the signed body only goes to the URL the
    owner entered, not to wherever a redirect points (another host, or inside this network)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


_opener = urllib.request.build_opener(_RefuseRedirects)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
    """POST ``body``; every failure (refused, timeout, TLS, non-2xx) becomes an Outcome."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            return Outcome(response.status)
    except urllib.error.HTTPError as exc:
        try:
            if 300 <= exc.code < 400:
                location = exc.headers.get("Location", "")
                if not location:
                    return Outcome(exc.code, f"HTTP {exc.code}: a redirect without a Location header, not followed.")
                return Outcome(
                    exc.code, f"Redirect to {location} not followed; enter the final URL instead."
                )
            excerpt = _excerpt(exc)
            return Outcome(
                exc.code, f"HTTP {exc.code}: {excerpt}" if excerpt else f"HTTP {exc.code}"
            )
        finally:
            exc.close()
    except urllib.error.URLError as exc:
        return Outcome(None, _describe(exc.reason, timeout))
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return Outcome(None, _describe(exc, timeout))


def _excerpt(exc: urllib.error.HTTPError) -> str:
    try:
        return exc.read(_ERROR_BODY_CHARS).decode("utf-8", "replace").strip()
    except (OSError, http.client.HTTPException):
        return ""


def _describe(reason: object, timeout: float) -> str:
    if isinstance(reason, TimeoutError):
        return f"No answer within {timeout:g} s."
    return str(reason) or type(reason).__name__


def attempt_delivery(delivery_id: int, attempt: int) -> str:
    """Claim and make attempt ``attempt + 1`` of the delivery; returns its new status, or
    ``skipped`` when another worker has it or it has moved on."""
    # A plain single-table condition, on purpose: an UPDATE filtered through a join becomes
    # ``WHERE id IN (subquery)``, which PostgreSQL does not re-check after waiting on a
    # concurrent update of the row, so two workers could both "win".
    waiting = Delivery.objects.filter(
        pk=delivery_id, status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED], attempts=attempt
    )
    delivery = waiting.select_related("endpoint").first()
    if delivery is None:
        return "skipped"
    endpoint = delivery.endpoint
    if not endpoint.is_active:  # nothing is sent: no attempt, in the log either
        gave_up = waiting.update(
            status=DeliveryStatus.GAVE_UP, error="Not sent: the endpoint is disabled.", next_attempt_at=None
        )
        return DeliveryStatus.GAVE_UP if gave_up else "skipped"
    now = timezone.now()
    if not waiting.update(
        status=DeliveryStatus.SENDING, attempts=attempt + 1, last_attempt_at=now, next_attempt_at=None
    ):
        return "skipped"
    delivery.status, delivery.attempts = DeliveryStatus.SENDING, attempt + 1
    delivery.last_attempt_at, delivery.next_attempt_at = now, None
    body = encode(delivery.payload)
    headers = request_headers(
        delivery.event, delivery.event_id, endpoint.secret, body, int(time.time())
    )
    outcome = post(endpoint.url, body, headers, settings.WEBHOOK_TIMEOUT_SECONDS)
    return record_outcome(delivery, outcome)


def _mine(delivery: Delivery) -> QuerySet[Delivery]:
    """The delivery row, only while it is still in the attempt this worker claimed."""
    return Delivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.SENDING, attempts=delivery.attempts
    )


def record_outcome(delivery: Delivery, outcome: Outcome) -> str:
    """Write the attempt's outcome; on failure count it against the endpoint (disabling it after
    ``WEBHOOK_DISABLE_AFTER`` in a row) and schedule the retry, or give up."""
    now = timezone.now()
    with transaction.atomic():
        if outcome.ok:
            if _mine(delivery).update(
                status=DeliveryStatus.DELIVERED,
                response_status=outcome.status,
                error="",
                delivered_at=now,
            ):
                Endpoint.objects.filter(pk=delivery.endpoint_id, consecutive_failures__gt=0).update(
                    consecutive_failures=0, failing_since=None
                )
            return DeliveryStatus.DELIVERED
        disabled = _count_failure(delivery.endpoint_id, now)
        retry = (
            not disabled
            and delivery.event != TEST_EVENT
            and delivery.attempts < settings.WEBHOOK_MAX_ATTEMPTS
        )
        run_after = now + retry_delay(delivery.attempts) if retry else None
        status = DeliveryStatus.FAILED if retry else DeliveryStatus.GAVE_UP
        error = _sentences(outcome.error, "The endpoint is disabled; no more retries.") if disabled else outcome.error
        updated = _mine(delivery).update(
            status=status,
            response_status=outcome.status,
            error=error[:2000],
            next_attempt_at=run_after,
        )
        if updated and retry:  # queued with the outcome: both commit, or neither
            queue_attempt(delivery.pk, delivery.attempts, run_after=run_after)
    return status


def _sentences(first: str, second: str) -> str:
    """``first`` and ``second`` as two sentences: an error may end without a full stop
    ("[Errno 111] Connection refused")."""
    first = first.strip()
    if first and not first.endswith((".", "!", "?")):
        first += "."
    return f"{first} {second}".strip()


def _count_failure(endpoint_id: int, now: datetime) -> bool:
    """Count a failed attempt; True when the endpoint is (now) disabled: after
    ``WEBHOOK_DISABLE_AFTER`` failed attempts in a row that have gone on for at least
    ``WEBHOOK_DISABLE_HOURS``. Counted alone, a burst of events (an import's new leads) met by
    a receiver down for a few minutes made 20 failures at once and disabled the endpoint, and
    every event after it was lost to it, though its retries would have got through."""
    Endpoint.objects.filter(pk=endpoint_id).update(
        consecutive_failures=F("consecutive_failures") + 1,
        failing_since=Coalesce("failing_since", Value(now)),
    )
    limit, hours = settings.WEBHOOK_DISABLE_AFTER, settings.WEBHOOK_DISABLE_HOURS
    failing = Endpoint.objects.filter(pk=endpoint_id, is_active=True, consecutive_failures__gte=limit)
    if hours:
        failing = failing.filter(failing_since__lte=now - timedelta(hours=hours))
    found = failing.values_list("consecutive_failures", "failing_since").first()
    if found is not None:
        # What happened, not the thresholds: with the hours, failures go on counting past the limit.
        count, since = found
        reason = f"{count} failed attempts in a row"
        if hours:
            reason += f" over {int((now - since).total_seconds() // 3600)} hours"
        if failing.update(is_active=False, disabled_at=now, disabled_reason=f"Disabled automatically after {reason}."):
            logger.warning("Webhook endpoint %s disabled after %s", endpoint_id, reason)
    return not Endpoint.objects.filter(pk=endpoint_id, is_active=True).exists()
