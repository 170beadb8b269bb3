"""Taking public form posts: the journal row first, then the lead, its consents and the
confirmation email, in one transaction; one post at a time or a group of them; replaying a
failed row."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from leadbase.capture import spam
from leadbase.capture.actions.forms import (
    CONTEXT_KEYS,
    FALSE_WORDS,
    LEAD_KEYS,
    MAX_LENGTH,
    UTM_KEYS,
)
from leadbase.capture.errors import CaptureError, RateLimited
from leadbase.capture.models import Form, Submission, SubmissionStatus
from leadbase.capture.signals import submission_spam
from leadbase.leads.actions import (
    Created,
    do_assign_owner,
    do_create_leads,
    do_record_consents,
    do_record_consents_of_new_leads,
    region_for,
)
from leadbase.leads.errors import LeadRejected
from leadbase.leads.models import ConsentStatus, Source, TouchKind
from leadbase.leads.signals import announced_at_end
from leadbase.lib.emails import clean_email
from leadbase.lib.errors import Invalid
from leadbase.lib.leadrow import Candidate, Refusal, clean_record
from leadbase.lib.markup import has_script_tag
from leadbase.lib.names import clean_name, join_name
from leadbase.lib.phones import clean_phone
from leadbase.rows import insert as insert_rows
from leadbase.tasks import enqueue_with_write

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# Submissions


@dataclass(frozen=True)
class SubmitMeta:
    """What the request says besides the payload."""

    ip: str | None = None
    user_agent: str = ""
    referer: str = ""  # the HTTP Referer header: the page the form was on
    received_at: datetime | None = None
    #: False: no confirmation email is queued (``leadbase demo``'s made-up visitors, whose
    #: addresses are nobody's); their consents stay pending until confirmed another way.
    emails: bool = True


@dataclass
class SubmitResult:
    """The outcome a view turns into a response. ``status`` is a SubmissionStatus value."""

    status: str
    submission_id: int | None = None
    lead_id: int | None = None
    outcome: str = ""  # created | merged
    code: str = ""  # rejected: the refusal's code; spam: the check the post failed
    field: str = ""
    message: str = ""
    more: list[CaptureError] = dataclasses.field(default_factory=list)  # rejected: other fields at fault


@dataclass
class _Values:
    record: dict[str, Any]
    consents: list[dict[str, Any]]  # the form's consent entries the visitor checked


def _text(value: Any, limit: int) -> str:
    return "" if value is None or isinstance(value, bool) else str(value).strip()[:limit]


def _attribution(payload: dict[str, Any], meta: SubmitMeta) -> dict[str, Any]:
    """Page, referrer, UTM tags and tracked link: posted fields win over the page URL's query."""
    page_url = _text(payload.get("lb_page"), 2000) or meta.referer[:2000]
    try:
        query = parse_qs(urlsplit(page_url).query)
    except ValueError:  # a page address that is no URL (any client can send any Referer): kept as text
        query = {}
    utm = {k: _text(payload.get(k), 200) or _from_url(query, k, 200) for k in UTM_KEYS}
    link = _text(payload.get("lb_link"), 32) or _from_url(query, "lb_link", 32)
    return {
        "page_url": page_url,
        "referrer": _text(payload.get("lb_referrer"), 2000),
        "utm": {k: v for k, v in utm.items() if v},
        "link_code": link,
    }


def _from_url(query: dict[str, list[str]], key: str, limit: int) -> str:
    """A tag of the page address's query; left out when it holds a script tag. Posted fields
    with one are refused (``_validate``), but the address is whatever a link said, so the post
    is taken without the tag rather than refused for a link the visitor did not write."""
    value = _text(query.get(key, [""])[0], limit)
    return "" if has_script_tag(value) else value


def _validate(form: Form, payload: dict[str, Any]) -> _Values:
    """Check the payload against the form; raise CaptureError naming the first bad field, with
    the other fields a visitor must correct in ``more`` (an address or number typed wrong among
    them), so the form comes back with every one marked rather than one per send. A body that
    is not the form's (an unknown field, a value that is no text, a script tag) is refused at
    its first fault."""
    by_key = {f["key"]: f for f in form.fields}
    consents = {f"consent_{c['purpose']}": c for c in form.consents}
    allowed = by_key.keys() | consents.keys() | set(UTM_KEYS) | set(CONTEXT_KEYS) | spam.SPAM_FIELDS
    unknown = sorted(set(payload) - allowed)
    if unknown:
        raise CaptureError(
            "unknown_field", f"“{unknown[0][:60]}” is not a field of this form.", unknown[0][:60]
        )
    for key, value in payload.items():
        if value is not None and not isinstance(value, (str, bool, int, float)):
            raise CaptureError("invalid_value", "Send this field as text.", key)
        # Every value is stored and shown as text, escaped; a script tag in one is still refused,
        # as no visitor types one in good faith and a marketer would otherwise find it in the
        # lead's fields, the journal and the exports.
        if isinstance(value, str) and has_script_tag(value):
            raise CaptureError("markup_not_allowed", "Script tags are not allowed here.", key)
    record: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    problems: list[CaptureError] = []
    for key, field in by_key.items():
        raw = payload.get(key)
        if field["type"] == "checkbox":
            value: Any = is_checked(raw)
            empty = not value
        else:
            value = "" if raw is None or isinstance(raw, bool) else str(raw).strip()
            empty = value == ""
            limit = MAX_LENGTH[field["type"]]
            if len(value) > limit:
                message = f"“{field['label']}” is too long ({limit} characters at most)."
                problems.append(CaptureError("too_long", message, key))
                continue
            if not empty and field["type"] == "select" and value not in field["options"]:
                problems.append(CaptureError(
                    "invalid_choice", f"Choose one of the options for “{field['label']}”.", key
                ))
                continue
        if empty and field["required"]:
            problems.append(CaptureError("missing_field", f"Please fill in “{field['label']}”.", key))
        if not empty:
            (record if key in LEAD_KEYS else custom)[key] = value
    checked = []
    for key, consent in consents.items():
        if is_checked(payload.get(key)):
            checked.append(consent)
        elif consent["required"]:
            problems.append(CaptureError("consent_required", "Please tick this box to continue.", key))
    if problems:
        problems += _lead_problems(record, form, {p.field for p in problems})
        raise _together(form, problems)
    custom.update(form.hidden_fields)
    if form.tags:
        custom["tags"] = list(form.tags)
    record["custom"] = custom
    return _Values(record, checked)


def is_checked(value: Any) -> bool:
    """A ticked checkbox: true, or any text but empty, 0, false, off or no."""
    if isinstance(value, bool):
        return value
    return value is not None and str(value).strip().lower() not in FALSE_WORDS


def do_submit_form(form: Form, payload: dict[str, Any], meta: SubmitMeta) -> SubmitResult:
    """Take one public submission of ``form``: rate limits, spam checks, validation, then the
    journal row and the lead, all in one transaction.

    Raises RateLimited (nothing written but the form's count of such posts, ``RefusedPosts``).
    Otherwise returns the result, with
    a journal row for every outcome: ``processed`` (lead created or merged, consents recorded,
    confirmation email queued with the write), ``spam`` (no lead; ``submission_spam`` sent within
    the transaction), ``rejected`` (the field at fault and why) or ``failed`` (kept for replay).
    """
    job = SubmitJob(form, payload, meta)
    prepare(job)  # the row, the validation and the lead record, as for a post taken in a group
    assert job.prepared is not None
    row, now = job.prepared.row, job.prepared.row.received_at
    accepted = False
    try:
        # One transaction for the counters, the row and the lead: on SQLite every write
        # transaction queues for the database lock, so fewer of them means less waiting.
        with transaction.atomic():
            spam.check_rate_limits(form, meta.ip, now)
            reason = spam.spam_reason(form, payload)
            if reason:
                return _journal_spam(form, row, reason)
            values = job.prepared.values
            if isinstance(values, CaptureError):
                return _reject(row, values, values.field)
            accepted = True
            row.save()
            return _process(form, row, values, job=job)
    except Exception as exc:  # the transaction itself failed (e.g. the database was locked)
        if isinstance(exc, RateLimited):
            _count_refused(form, now)
        if not accepted or isinstance(exc, CaptureError):
            raise
        log.exception("submission to form %s could not be processed; kept for replay", form.slug)
        row.pk, row.status, row.error = None, SubmissionStatus.FAILED, _describe(exc)
        row.consent_texts = _consent_texts(form)
        row.save()
        return SubmitResult(SubmissionStatus.FAILED, row.pk)


def _count_refused(form: Form, now: datetime) -> None:
    """Count a post refused over a rate limit; a count that cannot be written (the database
    busy) is logged, and the poster still gets the rate limit's answer, not an error."""
    try:
        with transaction.atomic():
            spam.count_refused({form.pk: 1}, now)
    except DatabaseError:
        log.warning("a post to form %s over a rate limit could not be counted", form.slug, exc_info=True)


@dataclass
class SubmitJob:
    """One post waiting to be taken with others (see ``leadbase.capture.intake``)."""

    form: Form
    payload: dict[str, Any]
    meta: SubmitMeta
    result: SubmitResult | None = None
    error: BaseException | None = None  # raised to the poster (RateLimited, …): nothing written
    prepared: _Prepared | None = None  # what ``prepare`` worked out before the write


@dataclass
class _Prepared:
    row: Submission  # the journal row, not saved
    values: _Values | CaptureError  # the validated fields, or why the form refuses them
    cleaned: Candidate | Refusal | None  # the lead record as the lead rules clean it


def prepare(job: SubmitJob) -> None:
    """Work out what a post's write needs and reads nothing from the database for: its journal
    row, its validation against the form and its lead record's cleaning.

    A web process's request threads call this before they queue for the write (see
    ``leadbase.capture.intake``): on SQLite a group holds the one write lock while it is written,
    so work done here, side by side with another process's write, shortens that hold. The
    outcome is the same as when ``do_submit_forms`` does it itself (these are pure functions of
    the form and the post); the spam checks stay in the write: the proof of work spends its
    challenge in the database, and a post over a rate limit must leave nothing.
    """
    form, now = job.form, job.meta.received_at or timezone.now()
    row = _journal_row(form, job.payload, job.meta, now)
    try:
        values: _Values | CaptureError = _validate(form, job.payload)
    except CaptureError as exc:
        values = exc
    cleaned = None
    if isinstance(values, _Values):
        cleaned = clean_record(_lead_record(row, values), region_for(form.workspace))
        typo = _contact_typo(cleaned, values.record, form)
        if typo is not None:
            values, cleaned = typo, None
    job.prepared = _Prepared(row, values, cleaned)


def _contact_typo(cleaned: Candidate | Refusal, record: dict[str, Any], form: Form) -> CaptureError | None:
    """The refusal of a typed email address or phone number that is not valid: the lead rules
    keep a lead by the other one when it is valid (an import cannot ask), but the visitor can
    correct it, and a confirmation email could never reach "a@b". Both typed wrong (the lead
    rules refuse the record for the first): both, the phone's in ``more``. For a live post
    (``prepare``: grouped or one by one), not a replay: its visitor is gone."""
    if isinstance(cleaned, Candidate):
        typos = [
            CaptureError(code, cleaned.problems[field], field)
            for field, code in (("email", "invalid_email"), ("phone", "invalid_phone"))
            if field in cleaned.problems
        ]
    else:  # refused by the lead rules: the name, the address and the number, each checked
        typos = _lead_problems(record, form, set())
    return _together(form, typos) if typos else None  # none: refused in the write, as before


def _lead_problems(record: dict[str, Any], form: Form, marked: set[str]) -> list[CaptureError]:
    """For a post refused already: its typed name, email address and phone number checked as
    the lead rules check them, so the visitor corrects them in the same round (only on this
    path: an accepted post's are cleaned once, with its lead). ``marked``: fields at fault
    already."""
    problems = []
    name_field = _field_at_fault(form, "name")
    typed_name = record.get("name") or join_name(record.get("first_name"), record.get("last_name"))
    if typed_name and name_field not in marked:
        try:
            clean_name(typed_name)
        except Invalid as exc:
            problems.append(CaptureError(exc.code, exc.message, name_field))
    for key in ("email", "phone"):
        if not record.get(key) or key in marked:
            continue
        try:
            if key == "email":
                clean_email(record[key])
            else:
                clean_phone(record[key], region_for(form.workspace))
        except Invalid as exc:
            problems.append(CaptureError(f"invalid_{key}", exc.message, key))
    return problems


def _together(form: Form, problems: list[CaptureError]) -> CaptureError:
    """The first of ``problems`` in the form's order (its inputs, then its consent boxes), with
    the others in its ``more``, in that order too: the answer's list and the page's focus agree."""
    order = [f["key"] for f in form.fields] + [f"consent_{c['purpose']}" for c in form.consents]
    place = {key: n for n, key in enumerate(order)}
    ranked = sorted(problems, key=lambda p: place.get(p.field, len(order)))
    first, first.more = ranked[0], ranked[1:]
    return first


def do_submit_forms(jobs: list[SubmitJob]) -> None:
    """Take several public submissions in the caller's transaction, each as ``do_submit_form``
    would: sets each job's ``result`` (or ``error``).

    The rows of each form that pass the spam checks and validation are journaled with one
    insert, and their leads made as one batch (``do_create_leads``), their consents with one
    insert: a few statements for the group instead of twenty per post. If that lead work fails,
    it is undone and each row is processed on its own as ``do_submit_form`` does, so one bad row
    cannot fail the others. An exception out of here means the transaction itself failed.
    """
    taken: list[tuple[SubmitJob, Submission, _Values | None]] = []
    refused: dict[int, int] = {}  # form id -> posts over a rate limit
    quotas = spam.Quotas([(job.form, job.meta.ip) for job in jobs], timezone.now())
    for number, job in enumerate(jobs):
        if job.prepared is None:
            prepare(job)
        assert job.prepared is not None
        row = job.prepared.row
        try:
            quotas.check(number)
            reason = spam.spam_reason(job.form, job.payload)
        except Exception as exc:  # noqa: BLE001 (the poster's own error, as on its own)
            job.error = exc  # a refused post leaves nothing but its form's count of them
            if isinstance(exc, RateLimited):
                refused[job.form.pk] = refused.get(job.form.pk, 0) + 1
            continue
        quotas.take(number)
        values = None
        if reason:
            row.status, row.spam_reason = SubmissionStatus.SPAM, reason
        elif isinstance(job.prepared.values, CaptureError):
            exc = job.prepared.values
            row.status, row.error = SubmissionStatus.REJECTED, f"{exc.code}: {exc.message}"
            job.result = SubmitResult(row.status, code=exc.code, field=exc.field, message=exc.message, more=exc.more)
        else:
            values = job.prepared.values
        taken.append((job, row, values))
    quotas.save()
    if refused:
        spam.count_refused(refused, quotas.now)
    # The journal first, in the order the posts came, with one statement.
    insert_rows([row for _, row, _ in taken], ids=True)
    accepted: dict[int, list[tuple[SubmitJob, Submission, _Values]]] = {}
    for job, row, values in taken:
        if row.status == SubmissionStatus.SPAM:
            submission_spam.send(
                Submission, workspace_id=row.workspace_id, submission_id=row.pk,
                form_slug=job.form.slug, reason=row.spam_reason,
            )
            job.result = SubmitResult(SubmissionStatus.SPAM, row.pk, code=row.spam_reason)
        elif job.result is not None:  # rejected by the form
            job.result.submission_id = row.pk
        else:
            assert values is not None
            accepted.setdefault(job.form.pk, []).append((job, row, values))
    for group in accepted.values():
        form = group[0][0].form
        try:
            with transaction.atomic():
                results = _make_leads(form, group)
        except Exception:
            log.exception("%s submissions to form %s failed together; taking them one by one",
                          len(group), form.slug)
            results = [_process(form, row, values, job=job) for job, row, values in group]
        for (job, _, _), result in zip(group, results):
            job.result = result


#: The lead fields a post's write uses (``_after_lead``, the consents): read back only those.
_LEAD_FIELDS = ("id", "workspace_id", "owner_id", "email_key")


def _make_leads(
    form: Form, group: list[tuple[SubmitJob | None, Submission, _Values]], consent_at: datetime | None = None
) -> list[SubmitResult]:
    """The leads, consents and confirmation emails of journal rows of ``form`` (one, or a group
    taken together); must run in a savepoint of the transaction that holds the rows. A row the
    lead rules refuse is marked ``rejected``; any exception means none of it happened. The lead
    events are sent at the end: a webhook shows the lead with its consents, owner and tags."""
    with announced_at_end():
        return _write_leads(form, group, consent_at)


def _write_leads(
    form: Form, group: list[tuple[SubmitJob | None, Submission, _Values]], consent_at: datetime | None
) -> list[SubmitResult]:
    rows = [
        (
            row.pk,
            job.prepared.cleaned
            if job and job.prepared and job.prepared.cleaned is not None
            else _lead_record(row, values),
            _last_touch(form, row),
        )
        for job, row, values in group
    ]
    made = do_create_leads(
        form.workspace,
        rows,
        source=Source.FORM,
        source_ref=form.slug,
        actor_label=f"form {form.slug}",
        touch_kind=TouchKind.FORM_SUBMITTED,
        touch_data={"form": form.slug},
        row_key_name="submission",
        lead_fields=_LEAD_FIELDS,
    )
    status = ConsentStatus.PENDING if form.double_opt_in else ConsentStatus.GRANTED
    # Consents of new people first, in one insert: a later row of the group that is the same
    # person then finds them, as it would have a moment later on its own.
    answers = [
        (made[row.pk].lead, c["purpose"], status, c["text"], row.ip)
        for _, row, values in group
        if isinstance(made[row.pk], Created) and made[row.pk].outcome == "created"
        for c in values.consents
    ]
    if answers:
        do_record_consents_of_new_leads(answers, method="form", source_ref=form.slug, at=consent_at)
    # Then those of people known before (or made by an earlier row of the group), in row order.
    again = [
        (made[row.pk].lead, c["purpose"], status, c["text"], row.ip)
        for _, row, values in group
        if isinstance(made[row.pk], Created) and made[row.pk].outcome != "created"
        for c in values.consents
    ]
    if again:
        do_record_consents(again, method="form", source_ref=form.slug, at=consent_at)
    results: list[SubmitResult] = []
    processed: list[tuple[str, str, int, int]] = []
    confirmations: list[tuple[int, int, list[str], str]] = []
    for job, row, values in group:
        outcome = made[row.pk]
        if isinstance(outcome, LeadRejected):
            results.append(_reject(row, outcome, _field_at_fault(form, outcome.field)))
            continue
        lead = outcome.lead
        confirmation = _after_lead(form, outcome, values)
        if confirmation is not None and (job is None or job.meta.emails):
            confirmations.append(confirmation)
        processed.append((SubmissionStatus.PROCESSED, outcome.outcome, lead.pk, row.pk))
        results.append(SubmitResult(SubmissionStatus.PROCESSED, row.pk, lead_id=lead.pk, outcome=outcome.outcome))
    if confirmations:  # one task for the group's emails, of one function whatever the group's size:
        # the worker runs a run of tasks of one function with one call (runs_many)
        from leadbase.capture.tasks import send_confirmation_emails_of

        enqueue_with_write(send_confirmation_emails_of, [list(c) for c in confirmations])
    if processed:
        table = connection.ops.quote_name(Submission._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET status = %s, error = '', outcome = %s, lead_id = %s WHERE id = %s",
                processed,
            )
    return results


def _journal_row(form: Form, payload: dict[str, Any], meta: SubmitMeta, now: datetime) -> Submission:
    """The raw journal row of a post (not saved yet)."""
    return Submission(
        workspace_id=form.workspace_id,
        form=form,
        received_at=now,
        payload=payload,
        ip=meta.ip,
        user_agent=meta.user_agent[:500],
        **_attribution(payload, meta),
    )


def _journal_spam(form: Form, row: Submission, reason: str) -> SubmitResult:
    row.status, row.spam_reason = SubmissionStatus.SPAM, reason
    with transaction.atomic():
        row.save()
        submission_spam.send(
            Submission,
            workspace_id=form.workspace_id,
            submission_id=row.pk,
            form_slug=form.slug,
            reason=reason,
        )
    return SubmitResult(SubmissionStatus.SPAM, row.pk, code=reason)


def _reject(row: Submission, exc: CaptureError | LeadRejected, field: str) -> SubmitResult:
    """Keep the row as ``rejected`` with why; the answer names the field at fault."""
    row.status, row.error = SubmissionStatus.REJECTED, f"{exc.code}: {exc.message}"
    if row.pk is None:
        row.save()
    else:
        Submission.objects.filter(pk=row.pk).update(status=row.status, error=row.error)
    more = exc.more if isinstance(exc, CaptureError) else []
    return SubmitResult(row.status, row.pk, code=exc.code, field=field, message=exc.message, more=more)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _process(
    form: Form, row: Submission, values: _Values, consent_at: datetime | None = None, job: SubmitJob | None = None
) -> SubmitResult:
    """Make the lead of a journal row; must run inside the transaction that holds the row.

    The lead work runs in a savepoint: a failure undoes it but not the row, which is then kept
    ``failed`` with the error and the consent texts the form showed (a refusal by the lead rules
    marks it ``rejected``). ``consent_at``: when the consents were given (default: now).
    """
    try:
        with transaction.atomic():
            (result,) = _make_leads(form, [(job, row, values)], consent_at)
    except Exception as exc:
        log.exception("submission #%s to form %s failed; kept for replay", row.pk, form.slug)
        Submission.objects.filter(pk=row.pk).update(
            status=SubmissionStatus.FAILED, error=_describe(exc),
            consent_texts=row.consent_texts or _consent_texts(form),  # a replay's keeps the first
        )
        return SubmitResult(SubmissionStatus.FAILED, row.pk)
    return result


def _consent_texts(form: Form) -> dict[str, str]:
    return {c["purpose"]: c["text"] for c in form.consents}


def _field_at_fault(form: Form, field: str) -> str:
    """The form's own input for a lead field (a split-name form has no ``name`` input)."""
    keys = {f["key"] for f in form.fields}
    if field == "name" and "name" not in keys:
        return "first_name"
    if field == "email" and "email" not in keys:
        return "phone"
    return field


def _lead_record(row: Submission, values: _Values) -> dict[str, Any]:
    """The record ``do_create_leads`` cleans: the form's fields, the post's UTM tags, referrer."""
    return {**values.record, **row.utm, "referrer": row.referrer}


def _last_touch(form: Form, row: Submission) -> dict[str, Any]:
    return {
        "source": Source.FORM,
        "form": form.slug,
        **row.utm,
        "referrer": row.referrer,
        "page": row.page_url,
        "link": row.link_code,
    }


def _after_lead(form: Form, made: Created, values: _Values) -> tuple[int, int, list[str], str] | None:
    """The form's owner for a lead without one. Returns the arguments of the confirmation
    email to queue when consents wait (an ask of ``send_confirmation_emails_of``), else None."""
    lead = made.lead
    if form.owner_id and lead.owner_id is None:
        do_assign_owner(lead, form.owner, actor=None)
    pending = [c["purpose"] for c in values.consents] if form.double_opt_in else []
    typed = made.candidate
    if not (pending and typed.email_key):
        return None  # an address the rules refused leaves nothing to confirm
    # To the address the visitor typed: merged into a known person by phone, the lead may keep
    # another address as its own (the typed one is then kept aside), and double opt-in must
    # prove the visitor reads the address they gave, not someone else's.
    to = "" if typed.email_key == lead.email_key else typed.email
    return lead.pk, form.pk, pending, to


def do_replay_submission(row: Submission) -> SubmitResult:
    """Process a ``failed`` journal row again, with the form's current definition, except for
    the consents: each one the visitor ticked is recorded with the text the form showed them
    (kept on the row when it failed; the current text for rows kept before that) and the time
    the post came in.

    Claimed with a conditional update inside the transaction, so two replays of one row (two
    operators, two machines) cannot both make its lead: the second finds it no longer failed.
    """
    form = Form.objects.select_related("workspace").get(pk=row.form_id)
    with transaction.atomic():
        claimed = Submission.objects.filter(pk=row.pk, status=SubmissionStatus.FAILED).update(
            status=SubmissionStatus.RECEIVED, attempts=F("attempts") + 1
        )
        if not claimed:
            return SubmitResult("skipped", row.pk)
        row.refresh_from_db()
        try:
            values = _validate(form, row.payload)
        except CaptureError as exc:
            return _reject(row, exc, exc.field)
        shown = row.consent_texts or {}
        values.consents = [{**c, "text": shown.get(c["purpose"], c["text"])} for c in values.consents]
        return _process(form, row, values, consent_at=row.received_at)
