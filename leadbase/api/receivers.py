"""The API's part of erasing a person (``leadbase.leads.signals.lead_erasing``)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from leadbase.api.models import IdempotencyKey
from leadbase.leads.signals import lead_erasing


@receiver(lead_erasing, dispatch_uid="api.lead_erasing")
def forget_answers(sender: Any, *, workspace_id: int, lead_ids: list[int], **kwargs: Any) -> None:
    """Delete the stored answers of ``Idempotency-Key`` requests that hold the leads (kept 24 hours
    for retries): a retry of such a request then runs again, and is refused as ``suppressed``."""
    IdempotencyKey.objects.filter(
        # A lead answer (a channel answer has an id too, but no family_name).
        token__workspace_id=workspace_id, response__id__in=lead_ids, response__has_key="family_name"
    ).delete()
