"""Double opt-in: a confirmation link turns the consents it asks for from pending to granted."""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from leadbase.capture import spam
from leadbase.capture.emails import ConfirmRequest
from leadbase.capture.errors import ConfirmLinkError
from leadbase.capture.models import Form
from leadbase.capture.tasks import send_confirmation_email
from leadbase.leads.actions import (
    do_confirm_consent,
)
from leadbase.leads.errors import TransitionError
from leadbase.leads.models import Consent, ConsentStatus, Lead
from leadbase.leads.queries import merged_away
from leadbase.tasks import enqueue_with_write

#: One new confirmation link per lead in this time, so the button of an old link cannot fill a
#: person's inbox. (At most an hour: see ``spam.take``.)
NEW_LINK_EVERY = timedelta(minutes=10)

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


def optin_state(lead_id: int, purposes: list[str]) -> tuple[list[str], bool]:
    """What a link for ``purposes`` finds now: the purposes still pending (sorted), and whether
    all of them are granted. A lead merged away is read as the lead it was merged into."""
    lead = Lead.objects.filter(pk=lead_id).only("id").first() or _merged_into(lead_id)
    if lead is None:
        return [], False
    status = dict(Consent.objects.filter(lead=lead, purpose__in=purposes).values_list("purpose", "status"))
    pending = sorted(p for p in set(purposes) if status.get(p) == ConsentStatus.PENDING)
    return pending, bool(purposes) and all(status.get(p) == ConsentStatus.GRANTED for p in purposes)


def do_send_new_link(wanted: ConfirmRequest, *, now: datetime | None = None) -> list[str]:
    """Queue a new confirmation email for what an expired link asked and is still pending, with
    the write (the worker sends it within seconds), to the address the lead has now. Returns the
    purposes it asks for; none when nothing is left to confirm (confirmed or withdrawn since),
    and then nothing is sent.

    Raises ConfirmLinkError: ``gone`` when the lead or the form no longer exists, ``too_soon``
    when a new link was sent for the lead less than ``NEW_LINK_EVERY`` ago.
    """
    now = now or timezone.now()
    with transaction.atomic():
        lead = Lead.objects.filter(pk=wanted.lead_id).only("id").first() or _merged_into(wanted.lead_id)
        if lead is None or not Form.objects.filter(pk=wanted.form_id).exists():
            raise ConfirmLinkError("gone", "This confirmation link is no longer valid.")
        waiting, _ = optin_state(lead.pk, wanted.purposes)
        if not waiting:
            return []
        wait = spam.take(f"new-link:{lead.pk}", 1, now, window=NEW_LINK_EVERY)
        if wait:
            minutes = math.ceil(wait / 60)
            error = ConfirmLinkError(
                "too_soon",
                "We sent you a new link already: look for it in your inbox (and in your spam "
                f"folder). You can ask for another in {minutes} minute{'s' if minutes != 1 else ''}.",
            )
            error.retry_after = wait
            raise error
        # The link's own lead id: the task sends to the address that lead had if it was merged away.
        enqueue_with_write(send_confirmation_email, wanted.lead_id, wanted.form_id, waiting)
    log.info("new confirmation link queued for lead %s (form %s)", lead.pk, wanted.form_id)
    return waiting
