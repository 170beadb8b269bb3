"""Forms (read) and the submissions journal (read), of the token's workspace.

Forms hold no personal data: every role may read them. Submissions are raw personal data of
people who may be anyone's leads, so they are for the roles that see every lead (not ``sales``).
The journal pages newest first on the ``(received_at, id)`` keyset.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from ninja import Query, Router

from leadbase.api.auth import require_all_leads
from leadbase.api.schemas import (
    ERROR_RESPONSES,
    FormList,
    FormOut,
    SubmissionOut,
    SubmissionPage,
    SubmissionStatusName,
)
from leadbase.capture.models import Form, Submission
from leadbase.leads.queries import BadCursor, decode_cursor, encode_cursor
from leadbase.rows import MAX_ID

router = Router(tags=["forms"])


@router.get("/forms", response={200: FormList, **ERROR_RESPONSES}, summary="List forms")
def list_forms(request: HttpRequest) -> dict[str, Any]:
    """Every form of the workspace with its fields and consent texts, by name. Archived forms
    (removed while they had submissions) are left out; ``GET /forms/{id}`` still finds them."""
    forms = Form.objects.filter(workspace=request.workspace, archived_at__isnull=True)
    return {"items": list(forms.order_by("name", "id"))}


@router.get(
    "/forms/{int:form_id}", response={200: FormOut, **ERROR_RESPONSES}, summary="Get a form"
)
def get_form(request: HttpRequest, form_id: int) -> Form:
    form = Form.objects.filter(workspace=request.workspace, pk=form_id).first()
    if form is None:
        raise Http404("No such form.")
    return form


@router.get(
    "/submissions", response={200: SubmissionPage, **ERROR_RESPONSES}, summary="List submissions"
)
def list_submissions(
    request: HttpRequest,
    form: int | None = Query(
        None, ge=1, le=MAX_ID, description="Only this form's submissions (its id)."
    ),
    status: SubmissionStatusName | None = Query(None),
    cursor: str | None = Query(
        None, max_length=200, description="next_cursor of the previous page."
    ),
    limit: int = Query(50, ge=1, le=200),
) -> dict[str, Any]:
    """The journal, newest first: every submission as received, with its outcome (the lead it
    created or merged into, or why it was refused)."""
    require_all_leads(request)
    qs = Submission.objects.filter(workspace=request.workspace)
    if form is not None:
        qs = qs.filter(form_id=form)
    if status is not None:
        qs = qs.filter(status=status)
    return _page(qs, cursor, limit)


@router.get(
    "/submissions/{int:submission_id}",
    response={200: SubmissionOut, **ERROR_RESPONSES},
    summary="Get a submission",
)
def get_submission(request: HttpRequest, submission_id: int) -> Submission:
    require_all_leads(request)
    submission = Submission.objects.filter(workspace=request.workspace, pk=submission_id).first()
    if submission is None:
        raise Http404("No such submission.")
    return submission


def _page(qs: QuerySet[Submission], cursor: str | None, limit: int) -> dict[str, Any]:
    if cursor:
        received_at, last_id = _after(cursor)
        qs = qs.filter(Q(received_at__lt=received_at) | Q(received_at=received_at, id__lt=last_id))
    rows = list(qs.order_by("-received_at", "-id")[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1].received_at.isoformat(), rows[-1].id])
    return {"items": rows, "next_cursor": next_cursor}


def _after(cursor: str) -> tuple[datetime, int]:
    """The ``(received_at, id)`` a cursor of ``_page`` holds, in UTC; BadCursor for anything else.

    ``_page`` writes an aware time and an id. An edited cursor may hold a naive time (which
    Django would read in the server's zone) or an offset that moves the time past year 9999 or
    before year 1, which Python cannot represent: converting to UTC here finds it, not the query.
    """
    values = decode_cursor(cursor)
    try:
        received_at, last_id = values
        if not isinstance(last_id, int) or isinstance(last_id, bool) or not 0 <= last_id <= MAX_ID:
            raise ValueError(last_id)
        at = datetime.fromisoformat(received_at)
        if at.tzinfo is None:
            raise ValueError(received_at)
        return at.astimezone(timezone.utc), last_id
    except (TypeError, ValueError, OverflowError):
        raise BadCursor(cursor) from None
