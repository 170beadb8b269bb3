"""Leads: create (or merge), list and search with cursor pages, read, update.

Creating goes through ``do_create_lead``, the action forms and imports use, so the cleaning,
deduplication and suppression rules are the same for every way a lead comes in. Reads are the
access-checked queries of ``leadbase.leads.queries``: a ``sales`` token sees only the leads its
user owns, and another workspace's lead is a 404.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router

from leadbase.api.actions import ConsentAnswer, do_create_lead_with_consents, do_edit_lead
from leadbase.api.auth import actor_label, require_manage, source_ref
from leadbase.api.errors import ApiError
from leadbase.api.idempotency import idempotency_header, run_idempotent
from leadbase.api.schemas import (
    ERROR_RESPONSES,
    LeadCreatedOut,
    LeadIn,
    LeadOut,
    LeadPage,
    LeadPatch,
    Line,
    StageName,
    plain_text,
    rendered,
)
from leadbase.leads.actions import Created
from leadbase.leads.models import Lead
from leadbase.leads.queries import BadCursor, decode_cursor, get_lead_for_user, leads_for_user
from leadbase.rows import MAX_ID

router = Router(tags=["leads"])

#: Warning codes of do_create_lead and the field each one is about.
_WARNING_FIELDS = {"invalid_email": "email", "invalid_phone": "phone"}


@router.post(
    "/leads", response={201: LeadCreatedOut, **ERROR_RESPONSES}, summary="Create or merge a lead"
)
def create_lead(
    request: HttpRequest,
    payload: LeadIn,
    idempotency_key: str | None = idempotency_header(),
) -> HttpResponse:
    """Clean the record and create the lead, or merge it into the person it already is (same
    email, or same phone and a matching name): ``outcome`` says which. Values that could not be
    used but were kept for correction (a bad phone next to a good email) are in ``warnings``.
    Owners' and marketers' tokens only, since a merge may touch any lead of the workspace."""
    require_manage(request)
    record = payload.model_dump(exclude={"consents"}, exclude_none=True)
    record["custom"] = {k: v for k, v in payload.custom.items() if v is not None}
    consents = [
        ConsentAnswer(purpose, answer.status, answer.text, str(answer.ip) if answer.ip else None)
        for purpose, answer in payload.consents.items()
    ]

    def write() -> tuple[int, dict[str, Any]]:
        created = do_create_lead_with_consents(
            request.workspace,
            record,
            consents,
            actor=request.user,
            actor_label=actor_label(request.token),
            source_ref=source_ref(request.token),
        )
        return 201, _created_body(created)

    return run_idempotent(request, idempotency_key, write)


def _created_body(created: Created) -> dict[str, Any]:
    (lead,) = _with_details([created.lead])
    warnings = [
        {"field": _WARNING_FIELDS.get(code), "code": code, "message": message}
        for code, message in created.warnings
    ]
    return rendered(LeadOut.from_orm(lead)) | {
        "outcome": created.outcome,
        "warnings": warnings,
    }


@router.get("/leads", response={200: LeadPage, **ERROR_RESPONSES}, summary="List or search leads")
def list_leads(
    request: HttpRequest,
    q: Line | None = Query(None, description="Name, email or phone prefix."),
    stage: StageName | None = Query(None),
    cursor: str | None = Query(
        None, max_length=1000, description="next_cursor of the previous page."
    ),
    limit: int = Query(50, ge=1, le=200),
) -> dict[str, Any]:
    """Newest first, one page at a time. ``q`` searches by prefix: text with ``@`` the email
    address, digits the phone number (with or without country code), anything else the name or
    family name (case and accents ignored); search results come in match order."""
    _check_cursor(cursor, search=bool(q and q.strip()))
    try:
        page, next_cursor = leads_for_user(
            request.membership, q=q, stage=stage, after=cursor, limit=limit
        )
    except OverflowError:
        # An edited cursor holding a number no integer can be (1e400 is infinity to Python).
        raise BadCursor(cursor) from None
    return {"items": _with_details(page), "next_cursor": next_cursor}


@router.get(
    "/leads/{int:lead_id}", response={200: LeadOut, **ERROR_RESPONSES}, summary="Get a lead"
)
def get_lead(request: HttpRequest, lead_id: int) -> Lead:
    (lead,) = _with_details([get_lead_for_user(request.membership, lead_id)])
    return lead


@router.patch(
    "/leads/{int:lead_id}", response={200: LeadOut, **ERROR_RESPONSES}, summary="Update a lead"
)
def update_lead(request: HttpRequest, lead_id: int, payload: LeadPatch) -> Lead:
    """Change fields (cleaned as on create) and the stage. In ``custom``, given keys are set and
    null removes a key; other keys stay. Disqualifying needs a ``reason``."""
    lead = get_lead_for_user(request.membership, lead_id, write=True)
    if payload.reason and payload.stage != "disqualified":  # it was dropped without a word
        raise ApiError(
            422, "reason_without_disqualified",
            "A reason goes with \"stage\": \"disqualified\" only; send both, or leave the reason out.",
            field="reason",
        )
    # ``custom`` is a patch, applied to the lead as it is when the write starts (do_update_lead)
    changes = payload.model_dump(exclude_unset=True, exclude={"stage", "reason"})
    lead = do_edit_lead(
        lead, changes, stage=payload.stage, reason=payload.reason or "", actor=request.user
    )
    (lead,) = _with_details([lead])
    return lead


def _check_cursor(cursor: str | None, *, search: bool) -> None:
    """Refuse a cursor this endpoint did not make (the query would find nothing or everything,
    silently): a page of leads continues after ``[id]``, a search after ``[phase, key, id]``,
    and their numbers are whole (not ``true`` or ``1.5``) and within an id's range. Its text
    must be something a lead key holds and PostgreSQL can compare (no NUL, no unpaired
    surrogate)."""
    if not cursor:
        return
    values = decode_cursor(cursor)
    if len(values) != (3 if search else 1):
        raise BadCursor(cursor)
    numbers = (values[0], values[2]) if search else (values[0],)
    if any(type(n) is not int or not -MAX_ID <= n <= MAX_ID for n in numbers):
        raise BadCursor(cursor)
    for value in values:
        if isinstance(value, str):
            try:
                plain_text(value)
            except ValueError:
                raise BadCursor(cursor) from None


def _with_details(leads: Iterable[Lead]) -> list[Lead]:
    """The full rows of ``leads`` (list pages load only the list columns), with owner and
    consents, in the same order: two queries for a whole page."""
    ids = [lead.pk for lead in leads]
    full = Lead.objects.select_related("owner").prefetch_related("consents").in_bulk(ids)
    return [full[pk] for pk in ids]
