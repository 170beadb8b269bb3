"""The main navigation: the whole loop, capture → clean → qualify → reach → measure.

Each entry names a URL; an entry whose URL does not exist yet (a later issue adds it) is shown
as "soon" instead of a link, so sections light up as their apps land without touching the
template. ``key`` matches the ``nav`` value a view puts in its context to mark the current page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from leadbase.accounts.models import Membership


@dataclass(frozen=True)
class Entry:
    key: str
    label: str
    url_name: str
    manage: bool = False  # owners and marketers only


SECTIONS: tuple[tuple[str, tuple[Entry, ...]], ...] = (
    ("", (Entry("home", "Home", "web:home"),)),
    (
        "Capture",
        (
            Entry("forms", "Forms & pages", "forms:list", manage=True),
            Entry("channels", "Channels", "channels:list"),
            Entry("links", "Tracked links", "channels:links"),
            Entry("import", "Import", "web:imports", manage=True),
        ),
    ),
    (
        "Clean",
        (
            Entry("leads", "Leads", "web:leads"),
            Entry("duplicates", "Duplicates", "web:duplicates"),
        ),
    ),
    (
        "Qualify",
        (
            Entry("scoring", "Scoring", "qualify:rules", manage=True),
            Entry("queue", "Sales queue", "qualify:queue"),
        ),
    ),
    (
        "Reach",
        (
            Entry("email", "Email", "mail:campaigns"),
            Entry("events", "Events", "events:list"),
        ),
    ),
    ("Measure", (Entry("reports", "Reports", "reports:index"),)),
    (
        "Settings",
        (
            Entry("workspace", "Workspace", "web:workspace_settings", manage=True),
            Entry("webhooks", "Webhooks", "hooks:list", manage=True),
        ),
    ),
)


@dataclass(frozen=True)
class Link:
    key: str
    label: str
    url: str  # "" while the section is still to come


def navigation(membership: Membership | None) -> list[tuple[str, list[Link]]]:
    """The sections and links ``membership`` sees (manager-only entries hidden from others)."""
    sections = []
    for title, entries in SECTIONS:
        links = []
        for entry in entries:
            if entry.manage and not (membership and membership.can_manage):
                continue
            try:
                url = reverse(entry.url_name)
            except NoReverseMatch:
                url = ""
            links.append(Link(entry.key, entry.label, url))
        if links:
            sections.append((title, links))
    return sections
