"""Small builders for report tests: journal rows, leads with a first touch, consents."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from leadbase.accounts.models import Workspace
from leadbase.capture.models import Form, Submission
from leadbase.leads.actions import do_record_consent
from leadbase.leads.models import Consent, Lead
from tests.factories import make_lead


def ago(days: float) -> datetime:
    return timezone.now() - timedelta(days=days)


def journal(
    form: Form,
    *,
    status: str = "processed",
    outcome: str = "",
    link_code: str = "",
    utm: dict[str, str] | None = None,
    lead: Lead | None = None,
    days_ago: float = 1,
) -> Submission:
    """A journal row as the submission pipeline leaves it."""
    return Submission.objects.create(
        workspace=form.workspace,
        form=form,
        received_at=ago(days_ago),
        payload={},
        status=status,
        outcome=outcome,
        link_code=link_code,
        utm=utm or {},
        lead=lead,
    )


def lead_with(
    workspace: Workspace,
    *,
    days_ago: float = 1,
    source: str = "manual",
    source_ref: str = "",
    **record: Any,
) -> Lead:
    """A lead created ``days_ago`` with that first touch (``record`` as for make_lead)."""
    lead = make_lead(workspace, **record)
    Lead.objects.filter(pk=lead.pk).update(
        created_at=ago(days_ago), source=source, source_ref=source_ref
    )
    lead.refresh_from_db()
    return lead


def consent(lead: Lead, purpose: str, status: str = "granted", at: datetime | None = None) -> None:
    do_record_consent(lead, purpose, status, method="form")
    if at is not None:
        Consent.objects.filter(lead=lead, purpose=purpose).update(at=at)
