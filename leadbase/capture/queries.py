"""Reads of capture's journal for other apps' pages and events (a lead's form posts)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from leadbase.capture.models import Submission, TrackedLink
from leadbase.leads.models import Touch, TouchKind


def posts_of_leads(workspace_id: int, lead_ids: Iterable[int]) -> QuerySet[Submission]:
    """The journal rows that made or updated the leads: linked to them, or named by their "form
    submitted" touches. A lead merged into another used to leave its rows without a lead (merges
    move them now); its touches moved to the lead kept, so its rows are found through them."""
    lead_ids = list(lead_ids)
    touched = {
        data["submission"]
        for data in Touch.objects.filter(lead_id__in=lead_ids, kind=TouchKind.FORM_SUBMITTED)
        .values_list("data", flat=True)
        .iterator()
        if isinstance(data, dict) and isinstance(data.get("submission"), int)
    }
    return Submission.objects.filter(Q(lead_id__in=lead_ids) | Q(pk__in=touched), workspace_id=workspace_id)


def submissions_for_lead(lead_id: int, workspace_id: int, limit: int = 20) -> list[Submission]:
    """The lead's form posts with their form, newest first (at most ``limit``): when, the landing
    page, the referrer, the UTM tags, the tracked link and the IP. Two queries."""
    return list(
        posts_of_leads(workspace_id, [lead_id])
        .select_related("form")
        .defer("payload", "consent_texts")
        .order_by("-received_at", "-id")[:limit]
    )


def links_by_code(workspace_id: int, codes: Iterable[str]) -> dict[str, TrackedLink]:
    """The workspace's tracked links of ``codes`` (archived ones too) with their channels, by
    code: a lead's page names the link and channel that brought it, not only ``/r/<code>``."""
    codes = {code for code in codes if code}
    if not codes:
        return {}
    links = TrackedLink.objects.filter(workspace_id=workspace_id, code__in=codes).select_related("channel")
    return {link.code: link for link in links}
