"""Turns lead and capture events into webhook deliveries.

The signals arrive inside the transaction that caused them, one per batch (an import announces
thousands of leads at once); the deliveries commit with the lead change. A batch costs one plain
query when the workspace has no active endpoint; otherwise one query for the leads and bulk inserts, whatever its
size, and one delivery per lead and endpoint.

A failure here is logged, not raised, and rolled back to a savepoint: an exception would turn
the form submission or API call that saved the lead into an error for the person who made it.
Erasing a person is the exception: its deliveries are deleted, or the erasure fails whole.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from leadbase.capture.signals import submission_spam
from leadbase.hooks.actions import do_queue_deliveries
from leadbase.hooks.models import Delivery
from leadbase.hooks.payloads import leads_data
from leadbase.hooks.queries import endpoints_for_event, has_active_endpoints
from leadbase.leads.signals import lead_erasing, lead_stage_changed, leads_created, leads_updated

logger = logging.getLogger(__name__)


@receiver(leads_created, dispatch_uid="hooks.leads_created")
def on_leads_created(
    sender: Any, *, workspace_id: int, lead_ids: Sequence[int], **kwargs: Any
) -> None:
    _queue_lead_event("lead.created", workspace_id, lead_ids)


@receiver(leads_updated, dispatch_uid="hooks.leads_updated")
def on_leads_updated(
    sender: Any, *, workspace_id: int, lead_ids: Sequence[int], **kwargs: Any
) -> None:
    _queue_lead_event("lead.updated", workspace_id, lead_ids)


@receiver(lead_stage_changed, dispatch_uid="hooks.lead_stage_changed")
def on_lead_stage_changed(
    sender: Any, *, workspace_id: int, lead_id: int, old: str, new: str, **kwargs: Any
) -> None:
    # The move itself travels with the event: the lead in the payload (read now, as the event
    # happens, and resent as it was then on every retry) shows where it went, not where from.
    _queue_lead_event(
        "lead.stage_changed", workspace_id, [lead_id], {"stage_change": {"from": old, "to": new}}
    )


@receiver(submission_spam, dispatch_uid="hooks.submission_spam")
def on_submission_spam(
    sender: Any,
    *,
    workspace_id: int,
    submission_id: int,
    form_slug: str,
    reason: str,
    **kwargs: Any,
) -> None:
    try:
        with transaction.atomic():
            endpoints = endpoints_for_event(workspace_id, "submission.spam")
            if endpoints:
                submission = {"id": submission_id, "form": form_slug, "reason": reason}
                do_queue_deliveries(endpoints, "submission.spam", [{"submission": submission}])
    except Exception:
        logger.exception(
            "Could not queue the submission.spam webhook of submission %s", submission_id
        )


def _queue_lead_event(
    event: str, workspace_id: int, lead_ids: Sequence[int], extra: dict[str, Any] | None = None
) -> None:
    try:
        if not has_active_endpoints(workspace_id):  # most workspaces: no savepoint, no ORM query
            return
        with transaction.atomic():
            endpoints = endpoints_for_event(workspace_id, event)
            if not endpoints:
                return
            leads = leads_data(workspace_id, lead_ids)
            items = [
                {"lead": leads[pk], **(extra or {})} for pk in dict.fromkeys(lead_ids) if pk in leads
            ]
            if items:
                do_queue_deliveries(endpoints, event, items)
    except Exception:
        logger.exception(
            "Could not queue the %s webhooks of %s lead(s) in workspace %s",
            event,
            len(lead_ids),
            workspace_id,
        )


@receiver(lead_erasing, dispatch_uid="hooks.lead_erasing")
def on_lead_erasing(sender: Any, *, workspace_id: int, lead_ids: list[int], **kwargs: Any) -> None:
    """Delete the leads' deliveries, sent or not: their payloads are a copy of its data. One not
    sent yet is not sent (its task finds no delivery to claim). Raises if it cannot: see
    ``lead_erasing``."""
    Delivery.objects.filter(endpoint__workspace_id=workspace_id, payload__data__lead__id__in=lead_ids).delete()
