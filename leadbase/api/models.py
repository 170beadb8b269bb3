"""API bookkeeping: idempotency keys and per-token rate-limit windows."""

from __future__ import annotations

from django.db import models

from leadbase.accounts.models import ApiToken


class IdempotencyKey(models.Model):
    """The stored response of a POST sent with an ``Idempotency-Key`` header.

    Same key + same body → the same response, without a second write; same key + another body
    → 422. Keys are scoped per token and kept for 24 hours.
    """

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="idempotency_unique_key")]


class RateWindow(models.Model):
    """A token's request count in the current one-minute window, shared by every web process.

    Counted with conditional UPDATEs (see ``leadbase.api.ratelimit``), so two processes can never
    both take the last request of a window.
    """

    token = models.OneToOneField(ApiToken, on_delete=models.CASCADE, primary_key=True, related_name="+")
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
