"""The leads list (search, filters, sort, keyset pages; htmx swaps the table), the lead page,
and the CSV/JSONL export."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from leadbase.capture.queries import links_by_code, submissions_for_lead
from leadbase.leads.export import stream_leads
from leadbase.leads.models import Consent, ConsentStatus, Touch, TouchKind
from leadbase.leads.queries import (
    BadCursor,
    consents_for_lead,
    get_lead_for_user,
    leads_for_user,
    owners_for_user,
    possible_duplicates_for_lead,
    search_kind,
    timeline_for_lead,
)
from leadbase.web.access import member_required
from leadbase.web.forms import LeadFilterForm
from leadbase.web.views.util import wants_partial

PAGE_SIZE = 50


@member_required
def lead_list(request: HttpRequest) -> HttpResponse:
    membership = request.membership
    form = LeadFilterForm(request.GET, owners=owners_for_user(membership))
    filters = {name: form.value(name) or None for name in ("q", "stage", "source", "owner")}
    sort = form.value("sort") or "newest"
    after = form.value("after") or None
    try:
        leads, next_cursor = leads_for_user(
            membership, **filters, sort=sort, after=after, limit=PAGE_SIZE
        )
    except BadCursor:
        after = None
        leads, next_cursor = leads_for_user(membership, **filters, sort=sort, limit=PAGE_SIZE)
    base = reverse("web:leads")
    params = request.GET.copy()
    params.pop("after", None)
    first_href = f"{base}?{params.urlencode()}" if after else ""
    if next_cursor:
        params["after"] = next_cursor
    context = {
        "form": form,
        "leads": leads,
        "next_href": f"{base}?{params.urlencode()}" if next_cursor else "",
        "first_href": first_href,
        "order_note": _order_note(filters, sort),
        "nav": "leads",
    }
    template = "leads/_table.html" if wants_partial(request) else "leads/list.html"
    response = render(request, template, context)
    # The same URL answers with a page or a partial: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _order_note(filters: dict, sort: str) -> str:
    if filters["q"]:
        kind = search_kind(filters["q"])
        return {
            "email": "Matching email addresses, A–Z.",
            "phone": "Matching phone numbers, in number order.",
        }.get(kind, "Names starting with your search first, then family names.")
    if sort in ("name", "score") and (filters["stage"] or filters["source"] or filters["owner"]):
        return "Filtered lists are shown newest first."
    return ""


@member_required
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_lead_for_user(request.membership, pk)
    timeline = timeline_for_lead(lead)
    consents = consents_for_lead(lead)
    _attach_requests(consents, timeline)
    submissions = submissions_for_lead(lead.pk, lead.workspace_id)
    last_code = str((lead.last_touch or {}).get("link") or "")
    links = links_by_code(lead.workspace_id, [s.link_code for s in submissions] + [last_code])
    for submission in submissions:
        submission.link = links.get(submission.link_code)
    return render(
        request,
        "leads/detail.html",
        {
            "lead": lead,
            "timeline": timeline,
            "consents": consents,
            "submissions": submissions,
            # The post that created the lead holds its first touch's landing page and link.
            "first_submission": next((s for s in submissions if s.outcome == "created"), None),
            "last_touch_link": links.get(last_code),
            "duplicates": possible_duplicates_for_lead(request.membership, lead),
            "can_write": request.membership.can_write,
            "nav": "leads",
        },
    )


def _attach_requests(consents: list[Consent], timeline: list[Touch]) -> None:
    """Give a consent granted by a confirmation link its request as ``consent.requested``.

    Confirming overwrites the consent's time, IP and method with the click's; the proof of a
    double opt-in is both answers, so the pending request's timeline entry (when, which form,
    from which IP) is shown with it.
    """
    for consent in consents:
        if consent.status != ConsentStatus.GRANTED or consent.method != "double_opt_in":
            continue
        consent.requested = next(
            (
                t
                for t in timeline  # newest first: the request this click confirmed
                if t.kind == TouchKind.CONSENT
                and t.at <= consent.at
                and t.data.get("purpose") == consent.purpose
                and t.data.get("status") == ConsentStatus.PENDING
            ),
            None,
        )


EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


@member_required(manage=True)
def lead_export(request: HttpRequest) -> HttpResponse:
    """Every lead of the workspace as CSV (default) or JSONL (``?format=jsonl``), streamed."""
    fmt = request.GET.get("format", "csv")
    if fmt not in EXPORT_TYPES:
        fmt = "csv"
    workspace = request.membership.workspace
    response = StreamingHttpResponse(
        stream_leads(workspace, fmt=fmt), content_type=EXPORT_TYPES[fmt]
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="leads-{workspace.slug}-{stamp}.{fmt}"'
    return response
