"""Turn one raw record (a CSV row, a form post, an API body) into a clean lead candidate.

Pure and picklable, so an import can run it on every core. A record becomes a candidate when it
has a plausible name and at least one valid contact channel; otherwise it is refused with one
reason code (DESIGN.md §6). When one channel is valid and the other is not, the candidate keeps
the valid one, keeps the bad value for correction (``problems``) and carries a warning.
"""

from __future__ import annotations

import unicodedata
from typing import Any, NamedTuple

from phonenumbers import SUPPORTED_REGIONS

from leadbase.lib.cleaning import (
    Invalid,
    clean_email,
    clean_name,
    clean_phone,
    country_code,
    join_name,
    name_key,
    split_name,
)

MAX_TEXT = 200


class Candidate(NamedTuple):
    """A cleaned record, ready for identity resolution and insertion.

    A NamedTuple, not a dataclass: an import sends a million of these between processes, and a
    tuple pickles and unpickles several times faster.
    """

    name: str
    name_key: str
    given_name: str
    family_name: str
    family_key: str
    email: str = ""
    email_key: str | None = None
    email_is_role: bool = False
    phone: str = ""
    phone_e164: str | None = None
    phone_ext: str = ""
    company: str = ""
    job_title: str = ""
    country: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""
    referrer: str = ""
    custom: dict[str, Any] = {}  # noqa: RUF012 (never mutated: clean_record passes a new dict)
    problems: dict[str, str] = {}  # noqa: RUF012


_new_candidate = tuple.__new__  # Candidate(*values) without its Python-level __new__


class Refusal(NamedTuple):
    code: str
    message: str


def clean_text(value: Any, limit: int = MAX_TEXT) -> str:
    """A text field as a lead keeps it (its source, UTM tags, …): one line, whitespace folded,
    at most ``limit`` characters; "" for nothing."""
    if not value:
        return ""
    return " ".join(str(value).split())[:limit]


def clean_record(record: dict[str, Any], region: str | None) -> Candidate | Refusal:
    """Clean ``record`` (keys as in leadbase.lib.columns.FIELDS; ``custom`` a dict).

    ``region`` is the fallback for phone numbers written without ``+`` when the record's own
    country does not name one.
    """
    parts: tuple[str, str] | None = None
    try:
        name = clean_name(record.get("name"))
        if not name:
            first, last = clean_text(record.get("first_name")), clean_text(record.get("last_name"))
            joined = join_name(first, last)
            name = clean_name(joined)
            if name and joined == " ".join(part for part in (first, last) if part):
                # The file says which part is which: "García López" stays the family name.
                parts = (unicodedata.normalize("NFC", first), unicodedata.normalize("NFC", last))
    except Invalid as exc:
        return Refusal(exc.code, exc.message)
    if not name:
        return Refusal("invalid_name", "The name is missing.")

    country = country_code(record.get("country")) or ""
    email_error: Refusal | None = None
    phone_error: Refusal | None = None
    email = phone = None
    raw_email = clean_text(record.get("email"), 320)
    raw_phone = clean_text(record.get("phone"), 64)
    try:
        email = clean_email(raw_email)
    except Invalid as exc:
        # The code and message, not the exception: kept in a local, the exception would hold
        # this frame through its traceback, a cycle only the garbage collector frees.
        email_error = Refusal(exc.code, exc.message)
    try:
        # A country with no numbering plan of its own (Antarctica, Bouvet Island…) tells
        # nothing about how its people's numbers are written: the fallback region does.
        phone = clean_phone(raw_phone, country if country in SUPPORTED_REGIONS else region)
    except Invalid as exc:
        phone_error = Refusal(exc.code, exc.message)

    if email is None and phone is None:
        if email_error is not None:
            return email_error
        if phone_error is not None:
            return phone_error
        return Refusal("no_contact", "Neither an email address nor a phone number was given.")

    given, family = parts or split_name(name)
    get = record.get
    custom = dict(get("custom") or {})
    raw_country = get("country")
    if raw_country and not country:
        custom.setdefault("country", clean_text(raw_country))  # unknown country: kept, not lost
    source = get("source")
    if source:
        custom.setdefault("lead_source", clean_text(source))
    notes = get("notes")
    if notes:
        custom.setdefault("notes", str(notes)[:5000])
    problems = {}
    if email_error is not None:
        problems["email"] = email_error.message
    if phone_error is not None:
        problems["phone"] = phone_error.message
    # Positionally, in the order of Candidate's fields: a million rows an import, and keywords
    # cost the named tuple's __new__ a third of its time. The absent optional texts (most
    # records have no UTM tags) skip the call to _text.
    return _new_candidate(Candidate, (
        name,
        name_key(name)[:200],
        given[:100],
        family[:100],
        name_key(family)[:100] if family else "",
        email.address if email else raw_email,
        email.key if email else None,
        email.is_role if email else False,
        raw_phone,
        phone.e164 if phone else None,
        phone.extension if phone else "",
        clean_text(v) if (v := get("company")) else "",
        clean_text(v) if (v := get("job_title")) else "",
        country,
        clean_text(v) if (v := get("utm_source")) else "",
        clean_text(v) if (v := get("utm_medium")) else "",
        clean_text(v) if (v := get("utm_campaign")) else "",
        clean_text(v) if (v := get("utm_term")) else "",
        clean_text(v) if (v := get("utm_content")) else "",
        clean_text(v, 2000) if (v := get("referrer")) else "",
        custom,
        problems,
    ))


def warning_codes(candidate: Candidate) -> list[tuple[str, str]]:
    """The warnings to report for a kept candidate: (code, message) per bad value kept aside."""
    codes = {"email": "invalid_email", "phone": "invalid_phone"}
    return [(codes[k], v) for k, v in candidate.problems.items()]
