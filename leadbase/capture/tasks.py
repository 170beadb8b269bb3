"""Background tasks of capture (run by `leadbase worker`, enqueued on commit)."""

from __future__ import annotations

from django_tasks import task

from leadbase.capture.emails import confirmation_message
from leadbase.capture.models import Form
from leadbase.leads.models import Consent, ConsentStatus, Lead


@task()
def send_confirmation_email(lead_id: int, form_id: int, purposes: list[str], to: str = "") -> bool:
    """Send the double opt-in email for the consents of ``purposes`` that are still pending, to
    ``to`` (the address the visitor typed, when the lead keeps another one) or the lead's email.

    Returns False (and sends nothing) when the lead is gone, has no valid address, or has
    answered already, so a retried task never asks twice.
    """
    lead = Lead.objects.filter(pk=lead_id, email_key__isnull=False).first()
    form = Form.objects.select_related("workspace").filter(pk=form_id).first()
    if lead is None or form is None:
        return False
    pending = list(
        Consent.objects.filter(
            lead=lead, purpose__in=purposes, status=ConsentStatus.PENDING
        ).values_list("purpose", flat=True)
    )
    if not pending:
        return False
    confirmation_message(lead, form, sorted(pending), to=to).send()
    return True
