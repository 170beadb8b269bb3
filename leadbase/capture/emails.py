"""The double opt-in email and its link.

The link carries a signed, timestamped token (``TimestampSigner``): the lead, the form and the
purposes to confirm. Nothing is stored for it, it cannot be forged without the secret key, and
it expires after ``CONFIRM_LINK_HOURS``. Opening it shows a page with a button; only the POST
confirms, so mail scanners that follow links do not grant consent on the person's behalf.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.template.loader import render_to_string
from django.urls import reverse

from leadbase import mail
from leadbase.capture.errors import ConfirmLinkError
from leadbase.capture.models import Form
from leadbase.leads.models import Lead

_signer = signing.TimestampSigner(salt="leadbase.capture.confirm")


@dataclass(frozen=True)
class ConfirmRequest:
    lead_id: int
    form_id: int
    purposes: list[str]


def confirm_token(lead_id: int, form_id: int, purposes: list[str]) -> str:
    return _signer.sign_object({"l": lead_id, "f": form_id, "p": list(purposes)})


def read_confirm_token(token: str) -> ConfirmRequest:
    """The request a token stands for; raises ConfirmLinkError when forged or expired."""
    try:
        data = _signer.unsign_object(token, max_age=settings.CONFIRM_LINK_HOURS * 3600)
    except signing.SignatureExpired:
        raise ConfirmLinkError(
            "expired_link",
            "This confirmation link has expired. Fill in the form again to get a new one.",
        ) from None
    except signing.BadSignature:
        raise ConfirmLinkError(
            "invalid_link", "This confirmation link is not valid. Check that it was copied whole."
        ) from None
    return ConfirmRequest(int(data["l"]), int(data["f"]), [str(p) for p in data["p"]])


def confirm_url(lead_id: int, form_id: int, purposes: list[str]) -> str:
    return settings.BASE_URL + reverse(
        "capture:confirm", args=[confirm_token(lead_id, form_id, purposes)]
    )


def confirmation_message(lead: Lead, form: Form, purposes: list[str], *, to: str = "") -> mail.Prepared:
    """The confirmation email (plain text and HTML) asking ``lead`` to confirm ``purposes``, sent
    to ``to`` or else the lead's address."""
    texts = [c["text"] for c in form.consents if c["purpose"] in purposes]
    context = {
        "lead": lead,
        "form": form,
        "workspace": form.workspace,
        "texts": texts,
        "url": confirm_url(lead.pk, form.pk, purposes),
        "hours": settings.CONFIRM_LINK_HOURS,
    }
    return mail.prepare(
        subject=f"Please confirm your subscription to {form.workspace.name}",
        to_name=lead.name,
        to_address=to or lead.email,
        text=render_to_string("capture/email/confirm.txt", context),
        html=render_to_string("capture/email/confirm.html", context),
    )
