"""The JSON bodies of webhook events: an envelope around the data of one lead or submission.

Every event body has the same envelope::

    {"id": "evt_…", "type": "lead.created", "created_at": "2025-01-31T12:00:00Z",
     "workspace": "acme", "data": {"lead": {…}}}

Leads are read with one query per batch (chunked under the database's parameter limit), never
one per lead, because an import announces thousands of leads at once.
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

_COLUMNS = (
    "id",
    "name",
    "given_name",
    "family_name",
    "email",
    "email_key",
    "phone_e164",
    "phone_ext",
    "company",
    "job_title",
    "country",
    "stage",
    "score",
    "source",
    "source_ref",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referrer",
    "custom",
    "created_at",
    "updated_at",
)


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


def lead_data(row: dict[str, Any]) -> dict[str, Any]:
    """A lead as receivers see it: valid contacts only (phone in E.164), UTM grouped, a link."""
    return {
        "id": row["id"],
        "name": row["name"],
        "given_name": row["given_name"],
        "family_name": row["family_name"],
        # A value kept only for correction (invalid) is not a way to reach the person.
        "email": row["email"] if row["email_key"] else None,
        "phone": row["phone_e164"],
        "phone_ext": row["phone_ext"],
        "company": row["company"],
        "job_title": row["job_title"],
        "country": row["country"],
        "stage": row["stage"],
        "score": row["score"],
        "source": row["source"],
        "source_ref": row["source_ref"],
        "utm": {
            key: row[f"utm_{key}"] for key in ("source", "medium", "campaign", "term", "content")
        },
        "referrer": row["referrer"],
        "custom": row["custom"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "url": settings.BASE_URL + reverse("web:lead", args=[row["id"]]),
    }


def leads_data(workspace_id: int, lead_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """``lead_data`` of each lead of ``lead_ids`` that still exists (merged or erased ones are
    gone by the time the event is handled), by id."""
    ids = list(dict.fromkeys(lead_ids))
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), IN_CHUNK):
        rows = Lead.objects.filter(
            workspace_id=workspace_id, pk__in=ids[start : start + IN_CHUNK]
        ).values(*_COLUMNS)
        found.update((row["id"], lead_data(row)) for row in rows)
    return found
