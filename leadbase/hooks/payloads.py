"""The JSON bodies of webhook events: an envelope around the data of one lead or submission.

Every event body has the same envelope::

    {"id": "evt_…", "type": "lead.created", "created_at": "2025-01-31T12:00:00Z",
     "workspace": "acme", "data": {"lead": {…}}}

A lead is written as the API returns it, plus its ``url``. Leads are read with two queries per
batch (chunked under the database's parameter limit: the leads with their owners, and their
consents), never per lead, because an import announces thousands of leads at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from django.conf import settings
from django.urls import reverse

from leadbase.leads.models import Lead
from leadbase.rows import IN_CHUNK

#: Sent by the "Send test event" button; it changes nothing and is never retried.
TEST_EVENT = "webhook.test"

def new_event_id() -> str:
    return f"evt_{secrets.token_hex(16)}"


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, the form most receivers' JSON libraries parse."""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def envelope(
    event_id: str, event: str, workspace_slug: str, at: datetime, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": event,
        "created_at": iso(at),
        "workspace": workspace_slug,
        "data": data,
    }


def lead_data(lead: Lead) -> dict[str, Any]:
    """A lead as the API returns it (``GET /api/v1/leads/{id}``, the same fields, written the
    same way), with ``url``, its page in Leadbase: a receiver reads events and API answers with
    one parser. ``lead`` needs ``owner`` and ``consents`` loaded (``leads_data`` does it)."""
    from leadbase.api.schemas import LeadOut, rendered  # the API's own: the two cannot drift apart

    data = rendered(LeadOut.from_orm(lead))
    data["url"] = settings.BASE_URL + reverse("web:lead", args=[lead.pk])
    return data


def leads_data(workspace_id: int, lead_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """``lead_data`` of each lead of ``lead_ids`` that still exists (merged or erased ones are
    gone by the time the event is handled), by id."""
    ids = list(dict.fromkeys(lead_ids))
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), IN_CHUNK):
        leads = (
            Lead.objects.filter(workspace_id=workspace_id, pk__in=ids[start : start + IN_CHUNK])
            .select_related("owner")
            .prefetch_related("consents")
        )
        found.update((lead.pk, lead_data(lead)) for lead in leads)
    return found
