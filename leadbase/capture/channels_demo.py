"""Demo channels for ``leadbase demo``: four social accounts with 12 weeks of follower history,
two tracked links each and their clicks, so the channel pages and reports have something to show.

Idempotent: a channel, a weekly count or a link that exists is left alone, and clicks are only
added to a link created by this run, so running the demo twice changes nothing (a later week
adds that week's follower count). Deterministic: numbers come from a seeded generator.
Channels and links are created through the real actions; follower counts and clicks are
bulk-inserted because they are history (the actions only record "now").
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from leadbase.accounts.models import User, Workspace
from leadbase.capture.channels import LinkSpec, do_create_channel, do_create_link
from leadbase.capture.models import Channel, FollowerSnapshot, LandingPage, LinkClick, TrackedLink

WEEKS = 12
#: platform, handle, profile URL, followers 12 weeks ago, weekly growth, clicks per week.
CHANNELS = (
    ("instagram", "acme.studio", "https://www.instagram.com/acme.studio/", 8200, 140, 24),
    ("facebook", "AcmeStudio", "https://www.facebook.com/AcmeStudio", 15400, 45, 14),
    ("x", "acmestudio", "https://x.com/acmestudio", 5100, 20, 8),
    ("youtube", "AcmeStudio", "https://www.youtube.com/@AcmeStudio", 2300, 65, 11),
)
#: label, utm_campaign, utm_content, share of the channel's clicks.
LINKS = (
    ("Profile bio link", "always-on", "bio", 0.6),
    ("Spring webinar post", "spring-webinar", "post", 0.4),
)
REFERRERS = {
    "instagram": "https://l.instagram.com/",
    "facebook": "https://l.facebook.com/",
    "x": "https://t.co/",
    "youtube": "https://www.youtube.com/",
}
FALLBACK_TARGET = "https://example.com/contact"


@dataclass
class DemoChannels:
    """What the demo holds afterwards: channels by platform and their tracked links."""

    channels: dict[str, Channel] = field(default_factory=dict)
    links: dict[str, list[TrackedLink]] = field(default_factory=dict)


def load_demo_channels(workspace: Workspace, owner: User) -> DemoChannels:
    """Create (or complete) the demo channels of ``workspace``; links point to the landing page
    ``/p/contact`` when the workspace has one, else to an example web address."""
    rng = random.Random(f"leadbase-demo-channels-{workspace.pk}")
    page = LandingPage.objects.filter(workspace=workspace, slug="contact").first()
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    weeks = [monday - timedelta(weeks=WEEKS - i) for i in range(WEEKS + 1)]
    demo = DemoChannels()
    with transaction.atomic():
        for platform, handle, url, start, growth, weekly_clicks in CHANNELS:
            channel = Channel.objects.filter(
                workspace=workspace, platform=platform, handle=handle
            ).first()
            if channel is None:
                channel = do_create_channel(
                    workspace, platform=platform, handle=handle, url=url, actor=owner
                )
            demo.channels[platform] = channel
            _add_history(channel, weeks, start, growth)
            demo.links[platform] = [
                _link(workspace, channel, page, spec, weeks, weekly_clicks, rng, owner)
                for spec in LINKS
            ]
    return demo


def _add_history(channel: Channel, weeks: list, start: int, growth: int) -> None:
    """Weekly counts from ``start``, growing by about ``growth``; a later run continues from the
    latest count instead of rewriting the past."""
    rng = random.Random(f"leadbase-demo-followers-{channel.pk}")
    latest = FollowerSnapshot.objects.filter(channel=channel).order_by("-date").first()

    def step() -> int:
        return max(0, int(growth * rng.uniform(0.4, 1.6)))

    followers = start if latest is None else latest.followers + step()
    counts = []
    for day in weeks:
        if latest is None or day > latest.date:
            counts.append(FollowerSnapshot(channel=channel, date=day, followers=followers))
            followers += step()
    FollowerSnapshot.objects.bulk_create(counts)


def _link(
    workspace: Workspace,
    channel: Channel,
    page: LandingPage | None,
    spec: tuple,
    weeks: list,
    weekly_clicks: int,
    rng: random.Random,
    owner: User,
) -> TrackedLink:
    label, campaign, content, share = spec
    link = TrackedLink.objects.filter(workspace=workspace, channel=channel, label=label).first()
    if link is not None:
        return link
    link = do_create_link(
        workspace,
        LinkSpec(
            channel=channel,
            page=page,
            target_url="" if page else FALLBACK_TARGET,
            label=label,
            utm_campaign=campaign,
            utm_content=content,
        ),
        actor=owner,
    )
    now = timezone.now()
    clicks = []
    for index, monday in enumerate(weeks):
        # More clicks as the account grows; each at a random moment of its week, never in the
        # future.
        for _ in range(
            int(weekly_clicks * share * (0.6 + index / len(weeks)) * rng.uniform(0.7, 1.3))
        ):
            at = timezone.make_aware(datetime.combine(monday, time())) + timedelta(
                seconds=rng.uniform(0, 7 * 86400)
            )
            if at < now:
                clicks.append(
                    LinkClick(link=link, at=at, referrer=REFERRERS.get(channel.platform, ""))
                )
    LinkClick.objects.bulk_create(clicks)
    return link
