"""Outbound webhooks: endpoints per workspace and the log of every delivery attempt.

Each delivery is signed (HMAC-SHA256 over ``timestamp.body`` with the endpoint's secret),
retried with backoff through the task queue, and an endpoint is disabled after repeated failures.
A delivery moves ``pending → sending → delivered | failed | gave_up`` (``failed`` goes back to
``sending`` on its next attempt) and every move is a conditional update, see ``delivery.py``.
"""

from __future__ import annotations

from django.db import models

from leadbase.accounts.models import Workspace

EVENTS = ("lead.created", "lead.updated", "lead.stage_changed", "submission.spam")


class Endpoint(models.Model):
    """A URL of the workspace that receives signed POSTs for the events it subscribes to."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=1000)
    secret = models.CharField(max_length=64)
    events = models.JSONField(default=list, help_text="Event names; empty means all.")
    is_active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)  # the first of those failures
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.url

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (will retry)"
    GAVE_UP = "gave_up", "Gave up"


class Delivery(models.Model):
    """One event for one endpoint: the exact payload, and the outcome of its latest attempt.

    ``event_id`` is sent as ``Leadbase-Delivery`` and as the payload's ``id``; it stays the same
    across retries and redeliveries so a receiver can de-duplicate.
    """

    # db_index=False: the composite indexes below lead with the endpoint.
    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    event = models.CharField(max_length=32)
    event_id = models.CharField(max_length=40, unique=True)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When the retry is scheduled."
    )

    class Meta:
        indexes = [
            # The delivery log: newest first, cut by keyset on the id.
            models.Index(fields=["endpoint", "-id"], name="delivery_endpoint_id"),
            # "Recent failures" per endpoint: a range of one status, not a scan of every delivery.
            models.Index(
                fields=["endpoint", "status", "-created_at"], name="delivery_endpoint_status"
            ),
        ]
