"""The double opt-in email and its link.

The link carries a signed, timestamped token (``TimestampSigner``): the lead, the form and the
purposes to confirm. Nothing is stored for it, it cannot be forged without the secret key, and
it expires after ``CONFIRM_LINK_HOURS``. Opening it shows a page with a button; only the POST
confirms, so mail scanners that follow links do not grant consent on the person's behalf.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import escape

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
        # Authentic, only old: what it asked for is still known, so a new link can be sent.
        error = ConfirmLinkError("expired_link", "This confirmation link has expired.")
        error.wanted = _request(_signer.unsign_object(token))
        raise error from None
    except signing.BadSignature:
        raise ConfirmLinkError(
            "invalid_link", "This confirmation link is not valid. Check that it was copied whole."
        ) from None
    return _request(data)


def _request(data: dict) -> ConfirmRequest:
    return ConfirmRequest(int(data["l"]), int(data["f"]), [str(p) for p in data["p"]])


def confirm_url(lead_id: int, form_id: int, purposes: list[str]) -> str:
    token = confirm_token(lead_id, form_id, purposes)
    if _PLAIN_TOKEN.match(token):  # what ``reverse`` leaves as it is: the path is worked out once
        return settings.BASE_URL + _confirm_path(get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF) + token
    return settings.BASE_URL + reverse("capture:confirm", args=[token])


_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9_:-]+\Z")  # a signed token's characters: base64url and ":"


@lru_cache(maxsize=16)
def _confirm_path(script_prefix: str, urlconf: str | None, root_urlconf: str) -> str:
    """The confirmation link's path up to its token (the arguments are what ``reverse`` reads)."""
    return reverse("capture:confirm", args=["-"])[:-1]


def confirmation_message(lead: Lead, form: Form, purposes: list[str], *, to: str = "") -> mail.Prepared:
    """The confirmation email (plain text and HTML) asking ``lead`` to confirm ``purposes``, sent
    to ``to`` or else the lead's address."""
    texts = tuple(c["text"] for c in form.consents if c["purpose"] in purposes)
    name, url = lead.given_name or lead.name, confirm_url(lead.pk, form.pk, purposes)
    workspace = form.workspace.name
    return mail.prepare(
        sender=_sender(workspace, settings.DEFAULT_FROM_EMAIL, settings.FROM_EMAIL_HAS_NAME),
        # Said as the body says it: the consents may be calls or events, not a newsletter.
        subject=f"Please confirm you want to hear from {workspace}",
        to_name=lead.name,
        to_address=to or lead.email,
        text=_fill(_laid_out("capture/email/confirm.txt", workspace, texts), {_NAME: name, _URL: url}),
        html=_fill(_laid_out("capture/email/confirm.html", workspace, texts), {_NAME: escape(name), _URL: escape(url)}),
    )


@lru_cache(maxsize=64)
def _sender(workspace: str, configured: str, configured_has_name: bool) -> str:
    """The From of a workspace's email to a lead: the workspace's name at the configured address,
    unless LEADBASE_FROM_EMAIL names a sender itself. A person who asked Acme for news got an
    email from "Leadbase", a name they never met."""
    if configured_has_name:
        return configured
    return formataddr((workspace, parseaddr(configured)[1]))


# The templates are rendered once per workspace name and consent texts, with these marks where
# the person's name and link go; each email fills them in. A burst of posts sends thousands of
# confirmations: rendering both templates for each (and ``reverse`` for each link) was 13 % of
# the worker's instructions per email (callgrind, 800 emails).
_NAME, _URL = (f"\x00{what}-{secrets.token_hex(8)}\x00" for what in ("name", "url"))  # no text holds these
_MARKS = re.compile(f"({re.escape(_NAME)}|{re.escape(_URL)})")


def _laid_out(template: str, workspace: str, texts: tuple[str, ...]) -> tuple[str, ...]:
    """``template`` rendered with marks for the name and the link, split at them: text, mark,
    text, … (filled in, the same as a rendering with the values themselves)."""
    return _render_marked(template, workspace, texts, settings.CONFIRM_LINK_HOURS)


@lru_cache(maxsize=256)
def _render_marked(template: str, workspace: str, texts: tuple[str, ...], hours: int) -> tuple[str, ...]:
    context = {"name": _NAME, "url": _URL, "workspace_name": workspace, "texts": texts, "hours": hours}
    return tuple(_MARKS.split(render_to_string(template, context)))


def _fill(pieces: tuple[str, ...], values: dict[str, str]) -> str:
    return "".join(values.get(piece, piece) if n % 2 else piece for n, piece in enumerate(pieces))
