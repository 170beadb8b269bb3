"""Template helpers: field labels and one-line descriptions of timeline entries.

Everything returned is plain text; the templates escape it like any other value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template

from leadbase.leads.models import ConsentStatus, Purpose, Source, Stage, Touch, TouchKind

register = template.Library()

LABELS = {
    "name": "Name",
    "email": "Email",
    "phone": "Phone",
    "company": "Company",
    "job_title": "Job title",
    "country": "Country",
    "email_key": "Email (normalized)",
    "phone_e164": "Phone (E.164)",
    "phone_ext": "Extension",
    "custom": "Custom fields",
    "utm_source": "UTM source",
    "utm_medium": "UTM medium",
    "utm_campaign": "UTM campaign",
    "utm_term": "UTM term",
    "utm_content": "UTM content",
    "referrer": "Referrer",
    "source": "Source",
    "source_ref": "Source detail",
    "at": "When",
    "form": "Form",
    "page": "Landing page",
    "link": "Tracked link",
    "ip": "IP",
    "submission": "Submission",
}

#: How a consent answer was given (``Consent.method``), as a person says it.
CONSENT_METHODS = {
    "form": "Form",
    "double_opt_in": "Confirmed by email link",
    "api": "API",
    "import": "Import",
    "manual": "Entered by a member",
    "unsubscribe": "Unsubscribe link",
}
#: Methods whose ``source_ref`` is a form's slug.
FORM_METHODS = ("form", "double_opt_in")

# Columns computed from another one; a timeline names the one a person typed.
DERIVED_FROM = {
    "phone_e164": "phone",
    "phone_ext": "phone",
    "email_key": "email",
    "name_key": "name",
    "given_name": "name",
    "family_name": "name",
    "family_key": "name",
}


@register.filter
def field_label(name: str) -> str:
    """``job_title`` → ``Job title``; unknown keys (custom fields) are made readable."""
    return LABELS.get(name) or str(name).replace("_", " ").capitalize()


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):  # a ticked checkbox field: "Yes", not Python's "True"
        return "Yes" if value else "No"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{field_label(k)}: {_text(v)}" for k, v in value.items())
    return str(value)


@register.filter
def as_text(value: Any) -> str:
    """A stored value as a person reads it: a list (form tags, a multiple choice) as
    “a, b”, not as Python's ``['a', 'b']``; a checkbox's true as “Yes”."""
    return _text(value)


@register.filter
def consent_method(method: str) -> str:
    return CONSENT_METHODS.get(method) or field_label(method)


@register.filter
def source_label(value: str) -> str:
    """``form`` → ``Form``, as the first touch says it."""
    return Source(value).label if value in Source.values else str(value)


def _stage(value: str) -> str:
    return Stage(value).label if value in Stage.values else str(value)


@register.filter
def touch_lines(touch: Touch) -> list[str]:
    """What a timeline entry says, as short sentences."""
    data = dict(touch.data or {})
    lines: list[str] = []
    if "import" in data:
        lines.append(
            f"Import #{data.pop('import')}" + (f", row {data.pop('row')}" if "row" in data else "")
        )
    elif "file" in data:
        lines.append(
            f"File {data.pop('file')}" + (f", row {data.pop('row')}" if "row" in data else "")
        )
    if touch.kind == TouchKind.MERGED and "merged_lead" in data:
        snapshot = data.pop("snapshot", {}) or {}
        lines.append(
            f"Merged lead #{data.pop('merged_lead')} ({snapshot.get('name') or 'no name'}) "
            "into this one"
        )
    if touch.kind == TouchKind.STAGE_CHANGED:
        lines.append(f"{_stage(data.pop('from', ''))} → {_stage(data.pop('to', ''))}")
        reason = data.pop("reason", "")
        if reason:
            lines.append(f"Reason: {reason}")
    if touch.kind == TouchKind.OWNER_CHANGED:
        names = getattr(touch, "user_labels", {})
        old, new = data.pop("from", None), data.pop("to", None)
        lines.append(
            f"{names.get(old, 'nobody') if old else 'nobody'} → "
            f"{names.get(new, 'nobody') if new else 'nobody'}"
        )
    if touch.kind == TouchKind.CONSENT and "purpose" in data:
        purpose, status = data.pop("purpose"), data.pop("status", "")
        lines.append(
            f"{Purpose(purpose).label if purpose in Purpose.values else purpose}: "
            f"{ConsentStatus(status).label if status in ConsentStatus.values else status}"
        )
        method = data.pop("method", "")
        ref = data.pop("source_ref", "")
        if method:
            lines.append(f"How: {consent_method(method)}")
        if ref:
            lines.append(f"{'Form' if method in FORM_METHODS else 'Source detail'}: {ref}")
    if touch.kind == TouchKind.DUPLICATE_DISMISSED and "other" in data:
        lines.append(f"Not the same person as lead #{data.pop('other')}")
    filled = data.pop("filled", None)
    if filled:
        # The normalized columns come with the value a person typed: "phone", not "phone,
        # phone (e.164), extension".
        typed = dict.fromkeys(DERIVED_FROM.get(f, f) for f in filled)
        lines.append("Filled in: " + ", ".join(field_label(f).lower() for f in typed))
    conflicts = data.pop("conflicts", None)
    if conflicts:
        lines.append(
            "Other values kept aside: "
            + "; ".join(f"{field_label(k).lower()} “{_text(v)}”" for k, v in conflicts.items())
        )
    changes = data.pop("changes", None)
    if changes:
        for name, pair in changes.items():
            if isinstance(pair, (list, tuple)) and len(pair) == 2:
                lines.append(f"{field_label(name)}: {_text(pair[0])} → {_text(pair[1])}")
    for key, value in data.items():
        lines.append(f"{field_label(key)}: {_text(value)}")
    return lines


@register.filter
def as_datetime(value: Any) -> datetime | None:
    """An ISO 8601 string (as stored in JSON fields) as a datetime for the ``date`` filters."""
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


@register.filter
def actor_of(touch: Touch) -> str:
    """Who did it: the member, else the recorded label (“import #3”, “form contact”), else
    Leadbase."""
    if touch.actor_id and touch.actor is not None:
        if touch.actor_label and touch.actor_label != touch.actor.label:
            return f"{touch.actor.label} · {touch.actor_label}"
        return touch.actor.label
    return touch.actor_label or "Leadbase"


REASONS = {
    "similar_name_company": "Similar name at the same company",
    "similar_name_domain": "Similar name, same email domain",
    "shared_mailbox": "Same role mailbox, different names",
}


@register.filter
def duplicate_reason(code: str) -> str:
    return REASONS.get(code, field_label(code))


@register.filter
def pair_leads(lead_a: Any, lead_b: Any) -> list[Any]:
    """Both leads of a pair, for a loop."""
    return [lead_a, lead_b]
