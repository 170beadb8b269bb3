"""Access-checked reads of channels, follower history and tracked links.

Every member of a workspace may read its channels and links (viewers and sales included);
writing is the actions' business, behind ``member_required(manage=True)``. An object of another
workspace is a 404, never a 403, so its id is not confirmed. Lists are one query each: counts
come from correlated subqueries, never from a query per row. Lists leave archived channels and
links out unless asked for them; the ``get_*`` reads find archived ones too (to restore them).
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from leadbase.accounts.models import Membership
from leadbase.capture.channels import is_page_online
from leadbase.capture.models import Channel, FollowerSnapshot, LandingPage, LinkClick, TrackedLink

#: The window of the "recent clicks" figure on the channel and link lists.
RECENT_DAYS = 30


def count_of(queryset: QuerySet) -> Coalesce:
    """``SELECT COUNT(*)`` of ``queryset`` (filtered on an OuterRef) as a scalar subquery.

    A plain function rather than the aggregate ``Count``, so Django adds no GROUP BY to it.
    """
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def channels_for_user(membership: Membership, *, archived: bool = False) -> list[Channel]:
    """The workspace's channels (or, with ``archived``, its archived ones) by platform and
    handle, each with ``followers`` and ``followers_on`` (its latest snapshot, or None),
    ``link_count`` (links not archived) and ``recent_clicks`` (human clicks on all its links in
    the last RECENT_DAYS days)."""
    latest = FollowerSnapshot.objects.filter(channel=OuterRef("pk")).order_by("-date")
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    return list(
        Channel.objects.filter(
            workspace_id=membership.workspace_id, archived_at__isnull=not archived
        )
        .annotate(
            followers=Subquery(latest.values("followers")[:1]),
            followers_on=Subquery(latest.values("date")[:1]),
            link_count=count_of(
                TrackedLink.objects.filter(channel=OuterRef("pk"), archived_at__isnull=True)
            ),
            recent_clicks=count_of(
                LinkClick.objects.filter(link__channel=OuterRef("pk"), at__gte=since)
            ),
        )
        .order_by("platform", "handle")
    )


def archived_count(model: type[Channel | TrackedLink], membership: Membership) -> int:
    """How many archived channels or links the workspace has (for the "Archived" button)."""
    return model.objects.filter(
        workspace_id=membership.workspace_id, archived_at__isnull=False
    ).count()


def channel_choices(membership: Membership, keep: int | None = None) -> QuerySet[Channel]:
    """The channels a link may be posted on: not archived, plus ``keep`` (the link's own)."""
    return Channel.objects.filter(
        Q(archived_at__isnull=True) | Q(pk=keep), workspace_id=membership.workspace_id
    ).order_by("platform", "handle")


def get_channel_for_user(membership: Membership, pk: int) -> Channel:
    """The channel ``pk`` of the member's workspace, archived or not (404 otherwise)."""
    channel = Channel.objects.filter(workspace_id=membership.workspace_id, pk=pk).first()
    if channel is None:
        raise Http404("No such channel.")
    return channel


def snapshots_for_channel(channel: Channel) -> list[FollowerSnapshot]:
    """The channel's follower counts, oldest day first."""
    return list(FollowerSnapshot.objects.filter(channel=channel).order_by("date"))


def get_snapshot_for_user(membership: Membership, channel_pk: int, pk: int) -> FollowerSnapshot:
    """The snapshot ``pk`` of channel ``channel_pk`` in the member's workspace (404 otherwise)."""
    snapshot = FollowerSnapshot.objects.filter(
        pk=pk, channel_id=channel_pk, channel__workspace_id=membership.workspace_id
    ).first()
    if snapshot is None:
        raise Http404("No such follower count.")
    return snapshot


def links_for_user(
    membership: Membership, channel: Channel | None = None, *, archived: bool = False
) -> list[TrackedLink]:
    """The workspace's tracked links (or one channel's; with ``archived``, the archived ones),
    newest first, with their channel and landing page, ``click_count`` (all time),
    ``recent_clicks`` (last RECENT_DAYS days) and ``offline`` (its landing page is not online)."""
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    links = TrackedLink.objects.filter(
        workspace_id=membership.workspace_id, archived_at__isnull=not archived
    )
    if channel is not None:
        links = links.filter(channel=channel)
    rows = list(
        links.select_related("channel", "page__form")
        .annotate(
            click_count=count_of(LinkClick.objects.filter(link=OuterRef("pk"))),
            recent_clicks=count_of(LinkClick.objects.filter(link=OuterRef("pk"), at__gte=since)),
        )
        .order_by("-id")
    )
    for link in rows:  # its page or form unpublished: /r/<code> answers "not found"
        link.offline = link.page is not None and not is_page_online(link.page)
    return rows


def get_link_for_user(membership: Membership, pk: int) -> TrackedLink:
    """The tracked link ``pk`` of the member's workspace, archived or not (404 otherwise)."""
    link = (
        TrackedLink.objects.filter(workspace_id=membership.workspace_id, pk=pk)
        .select_related("channel", "page")
        .first()
    )
    if link is None:
        raise Http404("No such tracked link.")
    return link


def landing_pages_for_user(
    membership: Membership, keep: int | None = None
) -> QuerySet[LandingPage]:
    """The workspace's landing pages a link may point at, by headline, with their form: those
    online (published, of a published form not archived: a link to any other answers 404), plus
    ``keep`` (the page a link being edited points at, online or not, so the link can be saved
    without changing where it leads)."""
    online = Q(is_published=True, form__is_published=True, form__archived_at__isnull=True)
    return (
        LandingPage.objects.filter(online | Q(pk=keep), workspace_id=membership.workspace_id)
        .select_related("form")
        .order_by("headline")
    )


def get_link_by_code(code: str) -> TrackedLink | None:
    """The tracked link behind the public ``/r/<code>``, with its landing page and the page's
    form (codes are stored lowercase, so a code typed in capitals still works). Archived links
    are found too: they keep redirecting."""
    return TrackedLink.objects.select_related("page__form").filter(code=code.lower()).first()
