"""Writes the API composes from the lead actions: a lead with its consents, an edit with a stage.

Each is atomic (all or nothing) and raises the lead actions' domain errors, never HTTP
responses. Creating the lead itself is ``leadbase.leads.actions.do_create_lead``, the same
action forms and imports use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from leadbase.accounts.models import User, Workspace
from leadbase.leads.actions import (
    Created,
    do_change_stage,
    do_create_lead,
    do_record_consent,
    do_update_lead,
)
from leadbase.leads.models import Lead, Source
from leadbase.leads.signals import announced_at_end


@dataclass(frozen=True)
class ConsentAnswer:
    """A person's answer for one purpose, as an API client reports it, with its proof."""

    purpose: str
    status: str
    text: str = ""
    ip: str | None = None


def do_create_lead_with_consents(
    workspace: Workspace,
    record: dict[str, Any],
    consents: list[ConsentAnswer],
    *,
    actor: User,
    actor_label: str,
    source_ref: str,
) -> Created:
    """Create or merge the lead (``do_create_lead``) and record its consents, all or nothing.

    The lead's last touch becomes this API call (with the UTM tags and referrer it carried).
    """
    last_touch = {"source": Source.API.value, "source_ref": source_ref} | {
        key: record[key]
        for key in (
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_term",
            "utm_content",
            "referrer",
        )
        if record.get(key)
    }
    with transaction.atomic(), announced_at_end():  # lead.created shows the consents too
        created = do_create_lead(
            workspace,
            record,
            actor=actor,
            source=Source.API,
            source_ref=source_ref,
            actor_label=actor_label,
            last_touch=last_touch,
        )
        for answer in consents:
            do_record_consent(
                created.lead,
                answer.purpose,
                answer.status,
                method="api",
                actor=actor,
                text=answer.text,
                ip=answer.ip,
                source_ref=source_ref,
            )
    return created


def do_edit_lead(
    lead: Lead, changes: dict[str, Any], *, stage: str | None, reason: str, actor: User
) -> Lead:
    """Apply field ``changes`` (``do_update_lead``; ``custom`` is a patch: keys given are set, a
    None removes its key) and move to ``stage`` (``do_change_stage``), both or neither. Their
    events are sent at the end, so that the webhooks of both show the lead with both changes:
    ``lead.updated`` showed the stage the lead was leaving."""
    with transaction.atomic(), announced_at_end():
        if changes:
            lead = do_update_lead(lead, changes, actor=actor, custom_patch=True)
        if stage is not None:
            lead = do_change_stage(lead, stage, actor=actor, reason=reason)
    return lead
