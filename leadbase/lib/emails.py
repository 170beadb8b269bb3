"""Email address cleaning: trim, unwrap, and validate exactly as email-validator does, fast.

Invariants:
- `clean_email(raw)` is None only when nothing was given (None, or only blanks); otherwise it
  returns an `Email` or raises `Invalid("invalid_email", …)`.
- Before validation the value is trimmed of `BLANK`, a `Name <addr>` / `<addr>` wrapper and a
  `mailto:` scheme (with its `?query`) are removed. Only what is left is validated.
- The verdict, and `Email.address`, are those of `email_validator.validate_email(addr,
  check_deliverability=False)` with its default options: no quoted local parts, IP literals,
  display names or special-use domains; internationalized addresses accepted.
- The regex fast path only accepts addresses email-validator accepts and builds the same
  normalized address it would; anything unusual goes to email-validator itself.
- `clean_email(e.address) == e` for every returned `e`.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import unquote

import email_validator
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

from leadbase.lib.errors import BLANK, Invalid, shown

# Shared mailboxes that several people may write from, so one address may be several leads.
ROLE_MAILBOXES: frozenset[str] = frozenset(
    {
        "accounts", "accounting", "admin", "administrator", "all", "billing", "bookings",
        "booking", "careers", "career", "contact", "contacts", "customerservice", "do-not-reply",
        "donotreply", "email", "enquiries", "enquiry", "events", "everyone", "feedback", "finance",
        "general", "hello", "help", "helpdesk", "hi", "hr", "info", "inquiries", "inquiry",
        "invoices", "jobs", "mail", "marketing", "media", "news", "newsletter", "no-reply",
        "no_reply", "noreply", "office", "orders", "order", "partners", "postmaster", "pr",
        "press", "privacy", "reception", "recruiting", "recruitment", "reservations", "sales",
        "service", "services", "shop", "staff", "store", "support", "team", "webmaster",
    }
)


class Email(NamedTuple):
    """A valid address: what to store, what identifies it, and where it lives."""

    address: str  # email-validator's normalized form: domain lowercased/Unicode, local case kept
    key: str  # the whole address lowercased, for duplicate detection
    domain: str  # lowercased (Unicode for internationalized domains)
    is_role: bool  # the local part is a shared mailbox from ROLE_MAILBOXES


# RFC 5322 atext, exactly the characters email-validator's own ASCII dot-atom check allows.
_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
_FAST_ADDRESS = re.compile(
    rf"(?P<local>[{_ATEXT}]+(?:\.[{_ATEXT}]+)*)"
    r"@(?P<domain>"
    # Hostname labels of at most 63 characters that neither start nor end with a hyphen.
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    # A letters-only top-level domain; Punycode TLDs (xn--…) take the slow path.
    r"[A-Za-z]{2,63})"
).fullmatch
# email-validator's EMAIL_MAX_LENGTH is 254 UTF-8 bytes: longer text can never pass.
_MAX_ADDRESS_LENGTH = 254
# Read from email-validator so both paths refuse the same special-use domains (.test, .local, …).
_SPECIAL_USE_SUFFIXES = tuple("." + d for d in email_validator.SPECIAL_USE_DOMAIN_NAMES)
_LOWERCASED_MAILBOXES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)
# Pinned to the library defaults so a global tweak of email_validator elsewhere (e.g. its
# TEST_ENVIRONMENT switch) cannot change which leads are accepted.
def _validate(address: str) -> email_validator.ValidatedEmail:
    return email_validator.validate_email(
        address,
        check_deliverability=False,
        allow_smtputf8=True,
        allow_empty_local=False,
        allow_quoted_local=False,
        allow_domain_literal=False,
        allow_display_name=False,
        strict=False,
        test_environment=False,
        globally_deliverable=True,
    )


def clean_email(raw: str | None) -> Email | None:
    """The valid, normalized address in `raw`; None if `raw` is blank; else raise Invalid."""
    if raw is None:
        return None
    given = raw.strip(BLANK)
    if not given:
        return None
    text = _unwrap(given) if given[-1] in ">\"'" or given[6:7] == ":" else given
    if len(text) > _MAX_ADDRESS_LENGTH:
        # email-validator refuses these too (it checks the whole input's length), but only after
        # Unicode work that grows with the length: a pasted document must not cost seconds.
        raise Invalid("invalid_email", f"{shown(given)} is too long to be an email address.")
    match = _FAST_ADDRESS(text)
    domain = match["domain"].lower() if match is not None else ""
    if (
        match is not None
        # "--" is either Punycode (xn--) or an RFC 5891 reserved label: email-validator decides.
        and "--" not in domain
        and not domain.endswith(_SPECIAL_USE_SUFFIXES)
    ):
        local = match["local"]
        if local.lower() in _LOWERCASED_MAILBOXES:  # email-validator lowercases RFC 2142 names
            local = local.lower()
        address = f"{local}@{domain}"
    else:
        try:
            valid = _validate(text)
        except email_validator.EmailNotValidError as error:
            reason = str(error)
            raise Invalid(
                "invalid_email",
                f"{shown(given)} is not a valid email address: {reason[:1].lower()}{reason[1:]}",
            ) from None
        address, local, domain = valid.normalized, valid.local_part, valid.domain
    return Email(address, address.lower(), domain, _is_role(local))


def _unwrap(text: str) -> str:
    """The address inside `Name <addr>`, `<addr>`, `mailto:addr?query`, `"addr"`, `'addr'` and
    a spreadsheet's `="addr"`, trimmed.

    A whole address in quotes can never be valid as written (a quoted local part needs a
    domain after it), so unwrapping it only turns an export's quoting back into the address.
    """
    for opening in ('="', '"', "'"):
        closing = opening[-1]
        if len(text) > len(opening) + 1 and text.startswith(opening) and text.endswith(closing):
            inner = text[len(opening) : -1]
            if closing not in inner:
                return _unwrap(inner.strip(BLANK)) if inner.strip(BLANK) else text
    if text[-1] == ">":
        opening = text.rfind("<")
        if opening != -1:
            text = text[opening + 1 : -1].strip(BLANK)
    if text[:7].lower() == "mailto:":
        # A mailto URI percent-encodes its address (RFC 6068); the query holds subject/body.
        text = unquote(text[7:].partition("?")[0]).strip(BLANK)
    return text


def _is_role(local: str) -> bool:
    # Sub-addresses (info+leads@) are still the shared mailbox.
    return local.lower().partition("+")[0] in ROLE_MAILBOXES
