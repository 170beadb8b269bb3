"""Possible duplicates: the review list, and "Merge" / "Not the same person" (POST)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from leadbase.leads.actions import do_dismiss_duplicate, do_merge_leads
from leadbase.leads.errors import LeadError
from leadbase.leads.queries import BadCursor, duplicates_for_user, get_duplicate_for_user
from leadbase.web.access import member_required
from leadbase.web.views.util import safe_next


@member_required
def duplicate_list(request: HttpRequest) -> HttpResponse:
    after = request.GET.get("after") or None
    try:
        pairs, next_cursor = duplicates_for_user(request.membership, after=after)
    except BadCursor:
        after = None
        pairs, next_cursor = duplicates_for_user(request.membership)
    return render(
        request,
        "leads/duplicates.html",
        {
            "pairs": pairs,
            "next_cursor": next_cursor,
            "paged": bool(after),
            "can_write": request.membership.can_write,
            "nav": "duplicates",
        },
    )


@require_POST
@member_required
def duplicate_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge the pair into the lead named by ``keep``; the other lead is merged away."""
    pair = get_duplicate_for_user(request.membership, pk, write=True)
    leads = {pair.lead_a_id: (pair.lead_a, pair.lead_b), pair.lead_b_id: (pair.lead_b, pair.lead_a)}
    try:
        keep, other = leads[int(request.POST.get("keep", ""))]
    except (KeyError, ValueError):
        return HttpResponseBadRequest("Choose which of the two leads to keep.")
    try:
        do_merge_leads(keep, other, actor=request.user)
    except LeadError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{other.name}” was merged into this lead.")
    return redirect("web:lead", pk=keep.pk)


@require_POST
@member_required
def duplicate_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    """Record that the two leads are different people; the pair is not suggested again."""
    pair = get_duplicate_for_user(request.membership, pk, write=True)
    try:
        do_dismiss_duplicate(pair, actor=request.user)
    except LeadError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"“{pair.lead_a.name}” and “{pair.lead_b.name}” are kept as different people."
        )
    return redirect(safe_next(request, reverse("web:duplicates")))
