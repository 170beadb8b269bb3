"""Double opt-in: a confirmation link turns the consents it asks for from pending to granted."""

from __future__ import annotations

import logging

from django.db import transaction

from leadbase.capture.errors import ConfirmLinkError
from leadbase.leads.actions import (
    do_confirm_consent,
)
from leadbase.leads.errors import TransitionError
from leadbase.leads.models import Consent, Lead
from leadbase.leads.queries import merged_away

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# Double opt-in


def _merged_into(lead_id: int) -> Lead | None:
    """The lead that ``lead_id`` was merged into, if it was."""
    kept = merged_away([lead_id]).get(lead_id)
    return Lead.objects.filter(pk=kept[0]).first() if kept is not None else None


def do_confirm_optin(lead_id: int, purposes: list[str], *, ip: str | None) -> list[Consent]:
    """Grant the pending consents a confirmation link asks for (``pending`` → ``granted``).

    Idempotent: a second click changes nothing, and a consent withdrawn since stays withdrawn.
    A lead merged into another since the email was sent is confirmed as the lead it was merged
    into (its consents moved there). Raises ConfirmLinkError(``gone``) when the lead or its
    consent request no longer exists (erased, say).
    """
    with transaction.atomic():
        lead = Lead.objects.filter(pk=lead_id).first() or _merged_into(lead_id)
        if lead is None:
            raise ConfirmLinkError("gone", "This confirmation link is no longer valid.")
        try:
            return [do_confirm_consent(lead, purpose, ip=ip) for purpose in purposes]
        except TransitionError:
            raise ConfirmLinkError("gone", "This confirmation link is no longer valid.") from None
