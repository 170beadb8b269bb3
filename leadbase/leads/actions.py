"""All writes to leads: create (any source), update, merge, dismiss a duplicate, stage, owner, erase.

Every action is atomic, records a Touch with the actor, and enqueues side effects on commit.
Creation from every source — web form, API, import, manual entry — goes through
``leadbase.leads.batch.apply_batch`` so the cleaning and identity rules are the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Value
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from leadbase.accounts.models import User, Workspace
from leadbase.leads.batch import (
    Context,
    Outcome,
    apply_batch,
    contact_hash,
    identity_conflict,
    insert_new_consents,
    lock_workspace,
    upsert_consents,
)
from leadbase.leads.errors import LeadError, LeadRejected, TransitionError
from leadbase.leads.identity import merge_into
from leadbase.leads.models import (
    Consent,
    ConsentStatus,
    DuplicateStatus,
    Lead,
    LeadAlias,
    PendingScan,
    PossibleDuplicate,
    Purpose,
    Source,
    Stage,
    Suppression,
    SuppressionKind,
    SuppressionReason,
    Touch,
    TouchKind,
)
from leadbase.leads.signals import (
    announce,
    lead_erasing,
    lead_merging,
    lead_stage_changed,
    leads_updated,
)
from leadbase.lib.cleaning import name_key, split_name
from leadbase.lib.leadrow import Candidate, Refusal, clean_record
from leadbase.rows import by_ids
from leadbase.tasks import enqueue_with_write


def region_for(workspace: Workspace, region: str | None = None) -> str:
    return (region or workspace.default_region or settings.DEFAULT_REGION).upper()


@dataclass
class Created:
    lead: Lead
    outcome: str  # created | merged
    warnings: list[tuple[str, str]]
    candidate: Candidate  # the record as cleaned (e.g. the address typed, when the lead keeps another)


def do_create_lead(
    workspace: Workspace,
    record: dict[str, Any],
    *,
    actor: User | None,
    source: str = Source.MANUAL,
    source_ref: str = "",
    actor_label: str = "",
    region: str | None = None,
    touch_kind: str = TouchKind.CREATED,
    touch_data: dict[str, Any] | None = None,
    last_touch: dict[str, Any] | None = None,
) -> Created:
    """Clean ``record`` and create the lead, or merge it into the person it already is.

    Raises LeadRejected (with the field at fault) when the record cannot be a lead.
    """
    (made,) = do_create_leads(
        workspace, [(0, record, last_touch)], actor=actor, source=source, source_ref=source_ref,
        actor_label=actor_label, region=region, touch_kind=touch_kind, touch_data=touch_data,
    ).values()
    if isinstance(made, LeadRejected):
        raise made
    return made


def do_create_leads(
    workspace: Workspace,
    rows: list[tuple[Any, dict[str, Any] | Candidate | Refusal, dict[str, Any] | None]],
    *,
    actor: User | None = None,
    source: str = Source.MANUAL,
    source_ref: str = "",
    actor_label: str = "",
    region: str | None = None,
    touch_kind: str = TouchKind.CREATED,
    touch_data: dict[str, Any] | None = None,
    row_key_name: str = "",
    lead_fields: tuple[str, ...] | None = None,
) -> dict[Any, Created | LeadRejected]:
    """``do_create_lead`` for several records at once, as one batch (form posts taken together).

    ``rows`` are ``(key, record, last_touch)``: a row with a last touch moves the lead's (all
    rows have one, or none does). A record may come cleaned already: what ``clean_record``
    returns for it with the same region (a Candidate, or a Refusal). With ``row_key_name``, each
    row's touch records ``{row_key_name: key}`` besides ``touch_data``. Returns, per key, what
    ``do_create_lead`` returns or raises; the same person twice in the rows is one lead, as one
    after the other. With ``lead_fields`` (attnames) the leads returned are read with those
    fields only; the others load when first used.
    """
    region = region_for(workspace, region)
    results: dict[Any, Created | LeadRejected] = {}
    items: list[tuple[Any, Candidate]] = []
    for key, record, _ in rows:
        cleaned = record if isinstance(record, (Candidate, Refusal)) else clean_record(record, region)
        if isinstance(cleaned, Refusal):
            results[key] = LeadRejected(cleaned.code, cleaned.message, field=_field_for(cleaned.code))
        else:
            items.append((key, cleaned))
    if not items:
        return results
    moves = rows[0][2] is not None
    if any((touch is not None) != moves for _, _, touch in rows):
        raise ValueError("do_create_leads: give every row a last touch, or none")
    ctx = Context(
        workspace_id=workspace.pk, source=source, source_ref=source_ref,
        actor_id=actor.pk if actor else None, actor_label=actor_label or (actor.label if actor else ""),
        created_kind=touch_kind, touch_data=touch_data or {}, row_key_name=row_key_name,
        last_touches={key: touch for key, _, touch in rows} if moves else None,
    )
    # No savepoint of its own inside the caller's atomic block: a failure fails that block (a
    # group of form posts has its own savepoint around this, and falls back to one at a time).
    with transaction.atomic(savepoint=False):
        outcomes = apply_batch(ctx, items)
        leads = by_ids(Lead, (o.lead_id for o in outcomes if o.lead_id), lead_fields)
        created = [o.lead_id for o in outcomes if o.outcome == "created"]
        if created:
            enqueue_duplicate_scan(workspace.pk, min(created), max(created))
    candidates = dict(items)
    for o in outcomes:
        if o.outcome == "rejected":
            results[o.key] = LeadRejected(o.code, o.message, field=_field_for(o.code, candidates[o.key]))
        else:
            results[o.key] = Created(leads[o.lead_id], o.outcome, o.warnings, candidates[o.key])
    return results


def _field_for(code: str, candidate: Candidate | None = None) -> str:
    """The input field a refusal is about. A suppressed person is refused for every channel they
    have (or for being erased): the email names it when there is one, as ``identity_conflict``
    does for an edit."""
    if code == "suppressed":
        return "email" if candidate is not None and candidate.email_key else "phone"
    return {"invalid_name": "name", "invalid_email": "email", "invalid_phone": "phone", "no_contact": "email"}.get(
        code, ""
    )


#: A pending scan whose task was queued longer ago than this gets another task: with a queue
#: outside the database (RQ) a crash between commit and enqueue could otherwise strand it.
SCAN_REQUEUE_AFTER = timedelta(minutes=10)


def enqueue_duplicate_scan(workspace_id: int, first_id: int, last_id: int) -> None:
    """Have the possible-duplicate scan look at new leads with ids in [first_id, last_id], with the
    write that created them (see leadbase.tasks).

    Coalesced: while a scan of the workspace is queued (a ``PendingScan`` row), a new range only
    widens it, so a burst of form posts queues one task, not one per post (each costs a task row
    inside the post's write transaction and a run of the worker).

    Deferred by ``DUPLICATE_SCAN_DELAY`` seconds where the queue can defer a task: a scan reads
    every member of each family name in its range, whatever the range's size, so under a steady
    stream of posts scanning every few seconds instead of at every poll of the worker reads the
    same families several times less often.
    """
    from leadbase.leads.tasks import scan_possible_duplicates

    now = timezone.now()
    # One plain statement: on a form post's hot path the ORM's cost of building it was most of it.
    table = connection.ops.quote_name(PendingScan._meta.db_table)
    widen = (
        "first_id = CASE WHEN first_id < %s THEN first_id ELSE %s END, "
        "last_id = CASE WHEN last_id > %s THEN last_id ELSE %s END"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {widen} WHERE workspace_id = %s AND queued_at >= %s",
            [first_id, first_id, last_id, last_id, workspace_id,
             connection.ops.adapt_datetimefield_value(now - SCAN_REQUEUE_AFTER)],
        )
        if cursor.rowcount:
            return
    try:
        with transaction.atomic():
            PendingScan.objects.create(workspace_id=workspace_id, first_id=first_id, last_id=last_id, queued_at=now)
    except IntegrityError:  # there is one, but its task was queued long ago: queue another
        PendingScan.objects.filter(workspace_id=workspace_id).update(
            first_id=Least("first_id", Value(first_id)), last_id=Greatest("last_id", Value(last_id)), queued_at=now
        )
    task = scan_possible_duplicates
    if settings.DUPLICATE_SCAN_DELAY > 0 and task.get_backend().supports_defer:
        task = task.using(run_after=now + timedelta(seconds=settings.DUPLICATE_SCAN_DELAY))
    enqueue_with_write(task, workspace_id)


EDITABLE = ("name", "email", "phone", "company", "job_title", "country")


def do_update_lead(
    lead: Lead, changes: dict[str, Any], *, actor: User | None, custom_patch: bool = False
) -> Lead:
    """Edit a lead's fields; the same cleaning rules apply as on create, except that an email
    or phone number the edit sets must be valid. Records what changed.

    ``changes["custom"]`` replaces the custom fields, or with ``custom_patch`` sets the keys it
    gives and removes those given as None. The edit applies to the lead as it is when the write
    starts, read again under the write lock, and writes only the fields it changes: two edits at
    once each keep the other's (a PATCH of ``company`` and one of ``job_title`` sent together
    lost one of them, both answered 200)."""
    unknown = set(changes) - set(EDITABLE) - {"custom"}
    if unknown:
        raise LeadError("unknown_field", f"These fields cannot be edited: {', '.join(sorted(unknown))}.", sorted(unknown)[0])
    with transaction.atomic():
        lock_workspace(lead.workspace_id)
        try:
            lead.refresh_from_db()
        except Lead.DoesNotExist:
            raise TransitionError("gone", "That lead was merged into another or deleted.") from None
        if custom_patch and "custom" in changes:
            merged = lead.custom | changes["custom"]
            changes = changes | {"custom": {k: v for k, v in merged.items() if v is not None}}
        record = {f: getattr(lead, f) for f in EDITABLE} | {"custom": lead.custom} | changes
        cleaned = clean_record(record, region_for(lead.workspace))
        typed = [f for f in ("email", "phone") if changes.get(f)]  # contacts this edit sets
        if isinstance(cleaned, Refusal):
            field = _field_for(cleaned.code)
            if typed and field not in typed:  # said about what the edit changed, not what it left
                field = typed[0]
            raise LeadRejected(cleaned.code, cleaned.message, field=field)
        # A contact typed wrong is refused, not kept aside for correction as on create: it took
        # the place of the lead's valid one, which was gone, silently (a PATCH answered 200).
        for f in typed:
            if f in cleaned.problems:
                raise LeadRejected(f"invalid_{f}", cleaned.problems[f], field=f)
        if (cleaned.email_key, cleaned.phone_e164) != (lead.email_key, lead.phone_e164):
            conflict = identity_conflict(lead.workspace_id, cleaned, exclude_id=lead.pk)
            if conflict is not None:
                raise LeadRejected(*conflict)
        before = {f: getattr(lead, f) for f in (*EDITABLE, "email_key", "phone_e164", "custom")}
        written = [f for f in _EDITED if getattr(lead, f) != getattr(cleaned, f)]
        for f in written:
            setattr(lead, f, getattr(cleaned, f))
        diff = {f: [before[f], getattr(lead, f)] for f in before if before[f] != getattr(lead, f)}
        if not diff:
            return lead
        lead.updated_at = timezone.now()
        lead.save(update_fields=[*written, "updated_at"])
        _touch(lead, TouchKind.UPDATED, actor, {"changes": diff})
        announce(leads_updated, Lead, workspace_id=lead.workspace_id, lead_ids=[lead.pk])
    return lead


#: The lead's columns an edit sets from its cleaned record.
_EDITED = ("name", "name_key", "given_name", "family_name", "family_key", "email", "email_key", "phone",
           "phone_e164", "phone_ext", "company", "job_title", "country", "custom", "problems")


_RESTRICTIVENESS = {ConsentStatus.WITHDRAWN: 3, ConsentStatus.PENDING: 2, ConsentStatus.GRANTED: 1}


def candidate_from_lead(lead: Lead) -> Candidate:
    """A lead's values as a candidate, to merge it into another lead with the import's rules."""
    given, family = split_name(lead.name)
    return Candidate(
        name=lead.name, name_key=lead.name_key, given_name=given, family_name=family,
        family_key=name_key(family) if family else "",
        email=lead.email, email_key=lead.email_key, phone=lead.phone, phone_e164=lead.phone_e164,
        phone_ext=lead.phone_ext, company=lead.company, job_title=lead.job_title, country=lead.country,
        utm_source=lead.utm_source, utm_medium=lead.utm_medium, utm_campaign=lead.utm_campaign,
        utm_term=lead.utm_term, utm_content=lead.utm_content, referrer=lead.referrer, custom=dict(lead.custom),
        problems=dict(lead.problems),
    )


def do_merge_leads(keep: Lead, other: Lead, *, actor: User | None) -> Lead:
    """Merge ``other`` into ``keep``: fill blanks, keep conflicting values aside, move the timeline
    and consents (the most restrictive answer per purpose wins), delete ``other``.
    """
    if keep.pk == other.pk or keep.workspace_id != other.workspace_id:
        raise LeadError("invalid_merge", "A lead can only be merged with another lead of the same workspace.")
    with transaction.atomic():
        lock_workspace(keep.workspace_id)
        keep.refresh_from_db()
        try:
            other.refresh_from_db()
        except Lead.DoesNotExist:
            raise TransitionError("gone", "That lead was already merged or deleted.") from None
        known = {f.attname: getattr(keep, f.attname) for f in Lead._meta.concrete_fields}
        changes, conflicts = merge_into(known, candidate_from_lead(other))
        for f, v in changes.items():
            setattr(keep, f, v)
        alternates = keep.alternates
        for f, values in other.alternates.items():
            for v in values:
                if v not in alternates.setdefault(f, []):
                    alternates[f].append(v)
        keep.owner_id = keep.owner_id or other.owner_id
        keep.score = max(keep.score, other.score)
        keep.updated_at = timezone.now()
        keep.save()
        for consent in Consent.objects.filter(lead=other):
            mine = Consent.objects.filter(lead=keep, purpose=consent.purpose).first()
            if mine is None:
                Consent.objects.filter(pk=consent.pk).update(lead=keep)
            elif _RESTRICTIVENESS[consent.status] > _RESTRICTIVENESS[mine.status]:
                mine.delete()
                Consent.objects.filter(pk=consent.pk).update(lead=keep)
        Touch.objects.filter(lead=other).update(lead=keep)
        PossibleDuplicate.objects.filter(Q(lead_a=other) | Q(lead_b=other)).delete()
        # The merged-away lead's contacts (and its own aliases) still reach this person.
        contacts = set(LeadAlias.objects.filter(lead=other).values_list("kind", "key"))
        contacts |= {("email", other.email_key), ("phone", other.phone_e164)}
        contacts -= {("email", keep.email_key), ("phone", keep.phone_e164)}
        LeadAlias.objects.bulk_create(
            [LeadAlias(workspace_id=keep.workspace_id, lead=keep, kind=kind, key=key)
             for kind, key in sorted(contacts) if key],
            ignore_conflicts=True,
        )
        snapshot = {f: getattr(other, f) for f in ("name", "email", "phone", "company", "job_title", "country")}
        other_id = other.pk
        lead_merging.send(Lead, workspace_id=keep.workspace_id, kept_id=keep.pk, merged_id=other_id)
        if Lead.objects.filter(pk=other_id).delete()[0] == 0:
            raise TransitionError("gone", "That lead was already merged or deleted.")
        _touch(keep, TouchKind.MERGED, actor, {"merged_lead": other_id, "snapshot": snapshot,
                                                "filled": sorted(k for k in changes if k not in ("alternates", "custom", "problems")),
                                                "conflicts": conflicts})
    return keep


def do_dismiss_duplicate(pair: PossibleDuplicate, *, actor: User | None) -> None:
    """Mark a possible duplicate as two different people; it is not suggested again."""
    with transaction.atomic():
        updated = PossibleDuplicate.objects.filter(pk=pair.pk, status=DuplicateStatus.OPEN).update(
            status=DuplicateStatus.DISMISSED
        )
        if not updated:
            raise TransitionError("already_dismissed", "This pair was already reviewed.")
        for lead_id, other_id in ((pair.lead_a_id, pair.lead_b_id), (pair.lead_b_id, pair.lead_a_id)):
            Touch.objects.create(
                workspace_id=pair.workspace_id, lead_id=lead_id, kind=TouchKind.DUPLICATE_DISMISSED,
                at=timezone.now(), actor=actor, actor_label=actor.label if actor else "", data={"other": other_id},
            )


def do_change_stage(lead: Lead, stage: str, *, actor: User | None, reason: str = "") -> Lead:
    """Move a lead to ``stage``; disqualifying needs a reason. A conditional update: no lost race."""
    if stage not in Stage.values:
        raise LeadError("invalid_stage", f"“{stage}” is not a stage.", "stage")
    if stage == Stage.DISQUALIFIED and not reason.strip():
        raise LeadError("reason_required", "Say why the lead is disqualified.", "reason")
    old = lead.stage
    if old == stage:
        return lead
    with transaction.atomic():
        if not Lead.objects.filter(pk=lead.pk, stage=old).update(
            stage=stage, disqualified_reason=reason.strip()[:200] if stage == Stage.DISQUALIFIED else "",
            updated_at=timezone.now(),
        ):
            raise TransitionError("stale", "The lead's stage changed meanwhile; reload and try again.")
        _touch(lead, TouchKind.STAGE_CHANGED, actor, {"from": old, "to": stage, "reason": reason})
        announce(lead_stage_changed, Lead, workspace_id=lead.workspace_id, lead_id=lead.pk, old=old, new=stage)
    lead.refresh_from_db()
    return lead


def do_assign_owner(lead: Lead, owner: User | None, *, actor: User | None) -> Lead:
    """Give the lead to a member of its workspace (or to nobody)."""
    if owner is not None and not owner.memberships.filter(workspace_id=lead.workspace_id).exists():
        raise LeadError("not_member", f"{owner.email} is not a member of this workspace.", "owner")
    old = lead.owner_id
    with transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(owner=owner, updated_at=timezone.now())
        _touch(lead, TouchKind.OWNER_CHANGED, actor, {"from": old, "to": owner.pk if owner else None})
    lead.refresh_from_db()
    return lead


def do_record_consent(
    lead: Lead,
    purpose: str,
    status: str,
    *,
    method: str,
    actor: User | None = None,
    text: str = "",
    ip: str | None = None,
    source_ref: str = "",
) -> Consent:
    """Record the person's answer for ``purpose`` with its proof; the latest answer wins, except
    that a pending (unconfirmed) request never downgrades a consent already granted. For leads
    created in the current transaction use ``do_record_consents_of_new_leads``.
    """
    _check_answer(purpose, status)
    proof = {"status": status, "at": timezone.now(), "method": method, "text": text, "ip": ip,
             "source_ref": source_ref}
    # The timeline keeps every answer's proof; the consent itself only the latest.
    touch = {"purpose": purpose, "status": status, "method": method, "source_ref": source_ref} | (
        {"ip": ip} if ip else {}
    )
    with transaction.atomic():
        current = Consent.objects.filter(lead=lead, purpose=purpose).first()
        if current is not None and current.status == ConsentStatus.GRANTED and status == ConsentStatus.PENDING:
            return current
        consent, _ = Consent.objects.update_or_create(lead=lead, purpose=purpose, defaults=proof)
        _touch(lead, TouchKind.CONSENT, actor, touch)
    return consent


def do_record_consents_of_new_leads(
    answers: list[tuple[Lead, str, str, str, str | None]], *, method: str, source_ref: str,
    at: datetime | None = None,
) -> None:
    """Record ``(lead, purpose, status, text, ip)`` answers of leads created in this transaction,
    with their timeline entries, given ``at`` (default: now). Such a lead has no consent yet and
    no other transaction can see it, so the answers are inserted without looking for earlier
    ones (a form post's hot path)."""
    for _, purpose, status, _, _ in answers:
        _check_answer(purpose, status)
    insert_new_consents(
        [(lead.workspace_id, lead.pk, purpose, status, text, ip) for lead, purpose, status, text, ip in answers],
        at=at or timezone.now(), method=method, source_ref=source_ref,
    )


def do_record_consents(
    answers: list[tuple[Lead, str, str, str, str | None]], *, method: str, source_ref: str,
    at: datetime | None = None,
) -> None:
    """Record ``(lead, purpose, status, text, ip)`` answers in order, each as ``do_record_consent``
    would (no actor), given ``at`` (default: now), whether or not the leads have consents
    already: a group of form posts by people already known records theirs with one read and two
    writes (``upsert_consents``)."""
    for _, purpose, status, _, _ in answers:
        _check_answer(purpose, status)
    with transaction.atomic(savepoint=False):
        upsert_consents(
            [(lead.workspace_id, lead.pk, purpose, status, text, ip) for lead, purpose, status, text, ip in answers],
            at=at or timezone.now(), method=method, source_ref=source_ref,
        )


_PURPOSES, _STATUSES = frozenset(Purpose.values), frozenset(ConsentStatus.values)  # ``values`` builds a list


def _check_answer(purpose: str, status: str) -> None:
    if purpose not in _PURPOSES:
        raise LeadError("invalid_purpose", f"“{purpose}” is not a consent purpose.", "purpose")
    if status not in _STATUSES:
        raise LeadError("invalid_consent", f"“{status}” is not a consent status.", "status")


def do_confirm_consent(lead: Lead, purpose: str, *, ip: str | None, method: str = "double_opt_in") -> Consent:
    """Turn a pending consent into granted (the double opt-in link). Idempotent once granted."""
    with transaction.atomic():
        updated = Consent.objects.filter(lead=lead, purpose=purpose, status=ConsentStatus.PENDING).update(
            status=ConsentStatus.GRANTED, at=timezone.now(), ip=ip, method=method
        )
        consent = Consent.objects.filter(lead=lead, purpose=purpose).first()
        if consent is None:
            raise TransitionError("no_consent", "There is no consent request to confirm.")
        if updated:
            # The request's time and IP stay on its own timeline entry (and the journal row).
            _touch(lead, TouchKind.CONSENT, None, {"purpose": purpose, "status": ConsentStatus.GRANTED,
                                                    "method": method} | ({"ip": ip} if ip else {}))
    return consent


def do_add_suppression(workspace: Workspace, kind: str, value: str, reason: str) -> bool:
    """Suppress a normalized email key or E.164 number; True when it was not suppressed yet."""
    if kind not in SuppressionKind.values or reason not in SuppressionReason.values:
        raise LeadError("invalid_suppression", "Unknown suppression kind or reason.")
    _, created = Suppression.objects.get_or_create(
        workspace=workspace, kind=kind, value_hash=contact_hash(kind, value), defaults={"reason": reason}
    )
    if not created and reason == SuppressionReason.ERASED:
        Suppression.objects.filter(workspace=workspace, kind=kind, value_hash=contact_hash(kind, value)).update(
            reason=reason
        )
    return created


def do_erase_lead(lead: Lead, *, actor: User | None) -> None:
    """Erase a person on request: delete the lead and everything about it, keeping only hashes
    of its contacts as `erased` suppressions so no import, form or API call brings it back.

    What other apps keep about the lead (form posts in the journal, webhook deliveries, stored
    API answers) is removed by their ``lead_erasing`` receivers in the same transaction."""
    with transaction.atomic():
        merged = Touch.objects.filter(lead=lead, kind=TouchKind.MERGED).values_list("data", flat=True)
        lead_ids = [lead.pk, *(data["merged_lead"] for data in merged if data.get("merged_lead"))]
        lead_erasing.send(Lead, workspace_id=lead.workspace_id, lead_ids=lead_ids)
        contacts = [("email", lead.email_key), ("phone", lead.phone_e164)]
        contacts += LeadAlias.objects.filter(lead=lead).values_list("kind", "key")
        for kind, value in contacts:
            if value:
                do_add_suppression(lead.workspace, kind, value, SuppressionReason.ERASED)
        Lead.objects.filter(pk=lead.pk).delete()


def _touch(lead: Lead, kind: str, actor: User | None, data: dict[str, Any]) -> Touch:
    return Touch.objects.create(
        workspace_id=lead.workspace_id, lead=lead, kind=kind, at=timezone.now(), actor=actor,
        actor_label=actor.label if actor else "", data=data,
    )


__all__ = [
    "Created", "Outcome", "do_add_suppression", "do_assign_owner", "do_change_stage", "do_confirm_consent",
    "do_create_lead", "do_create_leads", "do_record_consent", "do_record_consents", "do_record_consents_of_new_leads",
    "do_dismiss_duplicate", "do_erase_lead", "do_merge_leads", "do_update_lead",
]
