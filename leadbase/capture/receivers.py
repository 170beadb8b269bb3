"""Capture's part of merging leads and erasing a person (``leadbase.leads.signals``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.dispatch import receiver

from leadbase.capture.models import Submission
from leadbase.capture.queries import posts_of_leads
from leadbase.leads.signals import lead_erasing, lead_merging

#: What an erased person's journal rows keep: when, which form, the outcome, and the attribution
#: the reports count (UTM tags, tracked link, the landing page without its query).
ERASED_PAYLOAD = {"erased": True}


@receiver(lead_merging, dispatch_uid="capture.lead_merging")
def move_posts(sender: Any, *, workspace_id: int, kept_id: int, merged_id: int, **kwargs: Any) -> None:
    """The merged-away lead's form posts now belong to the lead kept (they would lose their lead)."""
    Submission.objects.filter(workspace_id=workspace_id, lead_id=merged_id).update(lead_id=kept_id)


@receiver(lead_erasing, dispatch_uid="capture.lead_erasing")
def forget_posts(sender: Any, *, workspace_id: int, lead_ids: list[int], **kwargs: Any) -> None:
    """Blank the personal data of the leads' form posts: the fields posted, the IP, the browser,
    the referrer, the error text (it may quote a value) and the query of the page address (a
    prefilled link can carry the address). The rows stay, so the reports' counts do not change."""
    rows = list(posts_of_leads(workspace_id, lead_ids))
    for row in rows:
        row.payload, row.ip, row.user_agent, row.referrer = ERASED_PAYLOAD, None, "", ""
        row.error, row.consent_texts, row.page_url = "", {}, _without_query(row.page_url)
    Submission.objects.bulk_update(
        rows, ["payload", "ip", "user_agent", "referrer", "error", "consent_texts", "page_url"]
    )


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
