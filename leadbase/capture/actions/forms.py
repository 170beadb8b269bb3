"""Writes of the form builder: forms, their landing pages, removing and restoring a form."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import RestrictedError
from django.utils import timezone
from django.utils.text import slugify

from leadbase.accounts.models import User, Workspace
from leadbase.capture import spam
from leadbase.capture.errors import FormConfigError
from leadbase.capture.models import Form, LandingPage, Removal, Submission
from leadbase.leads.models import Purpose

log = logging.getLogger(__name__)

FIELD_TYPES = ("text", "email", "phone", "textarea", "select", "checkbox")
MAX_LENGTH = dict(text=200, email=320, phone=64, textarea=5000, select=200, checkbox=10)
LEAD_KEYS = ("name", "first_name", "last_name", "email", "phone", "company", "job_title", "country")
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
CONTEXT_KEYS = ("lb_page", "lb_referrer", "lb_link")
RESERVED_PREFIXES = ("lb_", "utm_", "consent_")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
FALSE_WORDS = frozenset({"", "0", "false", "off", "no"})

# ---------------------------------------------------------------------------------------------
# The form builder


def _refuse(code: str, key: Any = "") -> FormConfigError:
    return FormConfigError.of(code, key=key, types=", ".join(FIELD_TYPES))


def _clean_key(key: Any, seen: set[str]) -> str:
    typed = str(key or "").strip()
    key = typed.lower()
    if not KEY_RE.match(key):
        raise _refuse("invalid_key", typed)  # as typed: "Company Name", not "company name"
    if key.startswith(RESERVED_PREFIXES) or key in spam.SPAM_FIELDS or key == "custom":
        raise _refuse("reserved_key", key)
    if key in seen:
        raise _refuse("duplicate_key", key)
    seen.add(key)
    return key


def _clean_fields(fields: list[dict[str, Any]], seen: set[str]) -> list[dict[str, Any]]:
    """The form's fields as stored; raises every row's problem at once (``_all``)."""
    cleaned, problems = [], []
    for raw in fields:
        try:
            key, kind = _clean_key(raw.get("key"), seen), raw.get("type") or "text"
            if kind not in FIELD_TYPES:
                raise _refuse("invalid_type", kind)
        except FormConfigError as exc:
            problems.append(exc)
            continue
        label = str(raw.get("label") or key.replace("_", " ").capitalize())[:200]
        field = {"key": key, "label": label, "type": kind, "required": bool(raw.get("required"))}
        if kind == "select":
            field["options"] = [
                str(o).strip()[:200] for o in raw.get("options") or [] if str(o).strip()
            ][:100]
            if not field["options"]:
                problems.append(_refuse("no_options", key))
        cleaned.append(field)
    typed = seen | {str(raw.get("key") or "").strip().lower() for raw in fields}  # a bad row's too
    if not ({"name"} <= typed or {"first_name", "last_name"} <= typed):
        problems.append(_refuse("no_name_field"))
    if not typed & {"email", "phone"}:
        problems.append(_refuse("no_contact_field"))
    _all(problems)
    return cleaned


def _clean_consents(consents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The form's consent boxes as stored; raises every row's problem at once (``_all``)."""
    cleaned: list[dict[str, Any]] = []
    problems = []
    for raw in consents:
        purpose, text = raw.get("purpose"), str(raw.get("text") or "").strip()
        if purpose not in Purpose.values:
            problems.append(_refuse("invalid_purpose", purpose))
        elif any(c["purpose"] == purpose for c in cleaned):
            problems.append(_refuse("duplicate_purpose", purpose))
        elif not text:
            problems.append(_refuse("no_consent_text"))
        else:
            cleaned.append(
                {"purpose": purpose, "text": text[:2000], "required": bool(raw.get("required"))}
            )
    _all(problems)
    return cleaned


def _all(problems: list[FormConfigError]) -> None:
    """Raise the first of ``problems`` with the others in its ``more`` (and theirs), if any: the
    builder marks every one, not one per save."""
    flat = [p for problem in problems for p in problem.every()]
    if flat:
        first = flat[0]
        first.more = flat[1:]
        raise first


def form_problems(form: Form, data: dict[str, Any], refused: set[str]) -> list[FormConfigError]:
    """Every problem saving ``data`` on ``form`` would meet, ``form`` left as it is: for the
    builder to mark them all while some parts are refused by its own checks already
    (``refused``: their names, left out of ``data``; a stand-in takes their place, and what is
    said about them is left out)."""
    stand_ins = {"name": "form", "fields": [{"key": "name"}, {"key": "email"}], "consents": []}
    if "name" in refused and not data.get("slug"):
        refused = refused | {"slug"}  # the slug would come from the stand-in name: nothing to say
    probe = Form(pk=form.pk, workspace_id=form.workspace_id)
    try:
        _apply_form(probe, stand_ins | {k: v for k, v in data.items() if k not in refused})
    except FormConfigError as exc:
        return [problem for problem in exc.every() if problem.field not in refused]
    return []


DEFAULT_PORTS = {"http": 80, "https": 443}


NO_ORIGIN = "null"  # what a browser sends for a page it will not name (see clean_origin)


def clean_origin(value: str) -> str:
    """``scheme://host[:port]`` exactly as browsers send it in the Origin header: lower case,
    the host in its ASCII (Punycode) form, no port when it is the scheme's default.

    Or ``null``: a browser sends ``Origin: null`` instead of the page's address for a plain HTML
    form on a page with ``Referrer-Policy: no-referrer`` (and from sandboxed frames and local
    files). Allowing it is the site owner's choice: any page can send it."""
    if value.strip().lower() == NO_ORIGIN:
        return NO_ORIGIN
    try:
        parts = urlsplit(value.strip().rstrip("/"))
        port = parts.port
    except ValueError:  # a port that is not a number, or out of range
        raise _refuse("invalid_origin", value) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
        raise _refuse("invalid_origin", value)
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise _refuse("invalid_origin", value) from None
    if ":" in host:  # an IPv6 address, in brackets as browsers send it
        host = f"[{host}]"
    suffix = f":{port}" if port and port != DEFAULT_PORTS[parts.scheme] else ""
    return f"{parts.scheme}://{host}{suffix}"


def _clean_url(value: str, field: str) -> str:
    value = (value or "").strip()
    if value and _scheme(value) not in ("http", "https"):
        raise FormConfigError("invalid_url", "Use an http:// or https:// address.", field)
    return value


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme
    except ValueError:  # not a URL at all (e.g. an unclosed "[" where the host goes)
        return ""


def _free_slug(model: type, slug: str, current_pk: int | None) -> str:
    slug = slugify(slug or "")[:60]
    if not slug:
        raise _refuse("invalid_slug")
    if model.objects.filter(slug=slug).exclude(pk=current_pk).exists():
        raise _refuse("slug_taken", slug)
    return slug


def _apply_form(form: Form, data: dict[str, Any]) -> Form:
    """Set ``form`` from ``data``. Every part is checked, also after one is refused: a
    FormConfigError names the first problem and holds the others (``more``), and leaves
    ``form`` as it was (the builder shows it again)."""
    problems: list[FormConfigError] = []

    def checked(step: Any, *args: Any) -> Any:
        try:
            return step(*args)
        except FormConfigError as exc:
            problems.append(exc)
            return None

    name = (data.get("name") or "").strip()[:200]
    if not name:
        problems.append(_refuse("no_name"))
    slug = checked(_free_slug, Form, data.get("slug") or name, form.pk) if data.get("slug") or name else None
    keys: set[str] = set()
    fields = checked(_clean_fields, data.get("fields") or [], keys)
    consents = checked(_clean_consents, data.get("consents") or [])
    hidden = {checked(_clean_key, k, keys): str(v)[:500] for k, v in (data.get("hidden_fields") or {}).items()}
    origins = {checked(clean_origin, o) for o in data.get("allowed_origins") or [] if o.strip()}
    redirect_url = checked(_clean_url, data.get("redirect_url", ""), "redirect_url")
    owner = data.get("owner")
    if owner is not None and not owner.memberships.filter(workspace_id=form.workspace_id).exists():
        problems.append(_refuse("not_member", owner.email))
    _all(problems)
    form.name, form.slug, form.fields, form.consents = name, slug, fields, consents
    form.hidden_fields, form.allowed_origins, form.redirect_url = hidden, sorted(origins), redirect_url
    form.tags = sorted({str(t).strip()[:50] for t in data.get("tags") or [] if str(t).strip()})[:20]
    thanks = (data.get("thank_you_message") or "").strip()[:2000]
    form.thank_you_message = thanks or "Thank you! We will be in touch."
    form.owner = owner
    for flag in ("double_opt_in", "is_published", "proof_of_work"):
        setattr(form, flag, bool(data.get(flag, getattr(form, flag))))
    return form


def do_create_form(workspace: Workspace, data: dict[str, Any], *, actor: User | None) -> Form:
    """Create a form from a definition (the keys of ``Form``; ``owner`` a User or None).

    Checks that it can make leads (a name and a contact field), that keys are unique and not
    reserved, that origins are real origins, and that the slug is free everywhere (public
    routes have no workspace in them). Logged with the actor (forms have no timeline).
    """
    with transaction.atomic():
        form = _apply_form(Form(workspace=workspace), data)
        form.save()
    log.info("form %s created by %s", form.slug, actor.label if actor else "system")
    return form


def do_update_form(form: Form, data: dict[str, Any], *, actor: User | None) -> Form:
    """Replace a form's definition; past submissions keep the payload they were sent with.

    An archived form is refused (``archived``): restore it first, so it cannot be published
    again while it is hidden from the list.
    """
    if form.archived_at is not None:
        raise _refuse("archived")
    with transaction.atomic():
        _apply_form(form, data).save()
    log.info("form %s updated by %s", form.slug, actor.label if actor else "system")
    return form


def do_save_landing_page(form: Form, data: dict[str, Any], *, actor: User | None) -> LandingPage:
    """Create or update the form's landing page ``/p/<slug>`` (headline, Markdown body, image).

    Refused (``archived``) while the form is archived."""
    if form.archived_at is not None:
        raise _refuse("archived")
    headline = (data.get("headline") or "").strip()[:200]
    if not headline:
        raise _refuse("no_headline")
    with transaction.atomic():
        page = form.pages.order_by("pk").first()
        page = page or LandingPage(workspace_id=form.workspace_id, form=form)
        page.slug = _free_slug(LandingPage, data.get("slug") or form.slug, page.pk)
        page.headline = headline
        page.body = (data.get("body") or "")[:20000]
        page.image_url = _clean_url(data.get("image_url", ""), "image_url")
        alt = " ".join((data.get("image_alt") or "").split())[:300]  # one line, spaces folded
        page.image_alt = alt if page.image_url else ""
        page.is_published = bool(data.get("is_published", True))
        page.save()
    log.info("landing page %s saved by %s", page.slug, actor.label if actor else "system")
    return page


# ---------------------------------------------------------------------------------------------
# Removing a form


def form_has_history(form: Form) -> bool:
    """True when the form has journal rows (of any status): then it is archived, never deleted."""
    return Submission.objects.filter(form_id=form.pk).exists()


def do_remove_form(form: Form, *, actor: User | None) -> Removal:
    """Remove a form: archive it when it has submissions, else delete it with its landing page.

    "Nothing accepted is ever lost": the journal rows stay, and ``Submission.form`` is RESTRICT,
    so a submission that arrives between the check and the delete (PostgreSQL) turns the
    delete into an archive instead of taking the row with it. Archiving unpublishes the form:
    ``/f/<slug>`` and ``/p/<slug>`` answer as for an unpublished form, its slug stays taken
    (embeds out there keep pointing at it), and it can be restored. Tracked links to a deleted
    landing page point nowhere afterwards (their ``page`` is set to NULL). Returns a Removal
    value; raises FormConfigError(``archived``) when it is archived already.
    """
    with transaction.atomic():
        if not Form.objects.filter(pk=form.pk, archived_at__isnull=True).exists():
            raise _refuse("archived")
        if not form_has_history(form):
            try:
                with transaction.atomic():
                    LandingPage.objects.filter(form_id=form.pk).delete()
                    Form.objects.filter(pk=form.pk).delete()
            except RestrictedError:
                pass  # a submission arrived meanwhile: archive below
            else:
                log.info("form %s deleted by %s", form.slug, _label(actor))
                return Removal.DELETED
        now = timezone.now()
        if not Form.objects.filter(pk=form.pk, archived_at__isnull=True).update(
            archived_at=now, is_published=False, updated_at=now
        ):
            raise _refuse("archived")
    form.archived_at, form.is_published = now, False
    log.info("form %s archived by %s", form.slug, _label(actor))
    return Removal.ARCHIVED


def do_restore_form(form: Form, *, actor: User | None) -> Form:
    """Bring an archived form back to the list. It stays unpublished until someone publishes it,
    so restoring never puts a page back online by surprise."""
    now = timezone.now()
    with transaction.atomic():
        if not Form.objects.filter(pk=form.pk, archived_at__isnull=False).update(
            archived_at=None, updated_at=now
        ):
            raise _refuse("not_archived")
    form.archived_at = None
    log.info("form %s restored by %s", form.slug, _label(actor))
    return form


def _label(actor: User | None) -> str:
    return actor.label if actor else "system"
