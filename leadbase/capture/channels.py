"""All writes to social channels, follower snapshots, tracked links and their clicks.

Every action is atomic and raises ``ChannelError`` (a stable ``code``, one readable
``message``, the ``field`` at fault), never an HTTP response. Channels are promotion, not leads:
nothing here creates or touches a lead. A tracked link's code is globally unique (public
routes carry no workspace), stored lowercase, and never changes once created, because it is
already printed in posts. A click stores its time and the referring page without its query
string: no IP address, no cookie, nothing that identifies the person.

Removing: a channel or link that has history (follower counts, links; clicks, submissions) is
archived, never deleted, so past reports keep their figures; one without history is deleted.
An archived link keeps redirecting and counting clicks: the posts that carry it stay online.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from os import PathLike
from urllib.parse import quote_plus, unquote_plus, urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from leadbase.accounts.models import User, Workspace
from leadbase.capture.models import (
    Channel,
    FollowerSnapshot,
    LandingPage,
    LinkClick,
    Platform,
    Removal,
    Submission,
    TrackedLink,
)
from leadbase.lib.csvfile import CsvError, read_rows, sniff

logger = logging.getLogger(__name__)

#: Lowercase base32 without the look-alikes l and o: 8 characters are 40 random bits, and a
#: code read aloud in a video or typed from a poster is not mistaken.
CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
CODE_LENGTH = 8
CUSTOM_CODE = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,30})[a-z0-9]")
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
DEFAULT_MEDIUM = "social"
#: PositiveIntegerField's upper bound on every supported database.
MAX_FOLLOWERS = 2_147_483_647
MAX_IMPORT_ROWS = 10_000
#: The earliest day a follower count may be recorded for. An older one is a typo (0025 for
#: 2025): kept, it would stretch the Owned vs rented report's "All time" over thousands of
#: empty weeks (from year 1, some 100,000 of them, which the report cannot draw).
FIRST_DAY = date(2000, 1, 1)
DATE_HEADERS = ("date", "day")
FOLLOWER_HEADERS = (
    "followers",
    "follower count",
    "followers count",
    "subscribers",
    "fans",
    "count",
)

_http_url = URLValidator(schemes=["http", "https"])
_GROUPED_COUNT = re.compile(r"\d{1,3}(?:([,. '\u00a0\u202f])\d{3})(?:\1\d{3})*")
#: A time of day after a date (ignored): 8:00, 08:00:00, 08:00:00.000Z, 08:00+01:00, 08:00 UTC.
_TIME_OF_DAY = (
    r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?"
)
_DASHED_DATE = re.compile(
    rf"(\d{{4}})-(\d{{2}})-(\d{{2}})(?:[T ]{_TIME_OF_DAY})?", re.ASCII | re.IGNORECASE
)
_SLASHED_DATE = re.compile(r"(\d{4})/(\d{2})/(\d{2})", re.ASCII)
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", re.ASCII)
_AMBIGUOUS_DATE = re.compile(r"\d{1,2}/\d{1,2}/\d{4}", re.ASCII)  # 03/04/2024: March or April?


class ChannelError(Exception):
    """A refused change to a channel, snapshot or link: ``code``, ``message``, ``field``."""

    def __init__(self, code: str, message: str, field: str = "") -> None:
        super().__init__(code, message, field)
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


@dataclass
class RowProblem:
    """Why one data row of a follower CSV was refused (``row`` is 1-based, header excluded)."""

    row: int
    code: str
    message: str


class SnapshotImportError(ChannelError):
    """A follower CSV with bad rows: every problem is listed and nothing was written."""

    def __init__(self, problems: list[RowProblem]) -> None:
        count = len(problems)
        super().__init__(
            "bad_rows",
            f"{count} row{'s' if count != 1 else ''} could not be read; nothing was imported.",
        )
        self.problems = problems


@dataclass
class SnapshotImport:
    """What a follower CSV import wrote: new days and days whose count was replaced."""

    created: int = 0
    updated: int = 0


# --- channels ---------------------------------------------------------------------------------


def _clean_channel(platform: str, handle: str, url: str) -> tuple[str, str, str]:
    if platform not in Platform.values:
        raise ChannelError("invalid_platform", "Choose the platform of this account.", "platform")
    handle = " ".join(handle.split()).lstrip("@").strip()
    if not handle:
        raise ChannelError("invalid_handle", "Enter the account's handle or name.", "handle")
    if len(handle) > 100:
        raise ChannelError("invalid_handle", "The handle is longer than 100 characters.", "handle")
    url = with_scheme(url.strip())
    if url:
        _check_url(url, "url")
    return platform, handle, url


#: A web address typed without its scheme: a host name with a dot, then a path or nothing.
_NO_SCHEME = re.compile(r"(?:www\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?::\d+)?(?:[/?#]\S*)?\Z")


def with_scheme(url: str) -> str:
    """``url`` with ``https://`` in front when it was typed without a scheme, as browsers take it
    (``youtube.com/@acme``); anything else as it is, for ``_check_url`` to judge."""
    return f"https://{url}" if _NO_SCHEME.match(url) else url


def _check_url(url: str, field_name: str) -> None:
    try:
        _http_url(url)
    except ValidationError:
        raise ChannelError(
            "invalid_url", "Enter a full web address starting with https://.", field_name
        ) from None
    if len(url) > 200:
        raise ChannelError(
            "invalid_url", "The web address is longer than 200 characters.", field_name
        )


def _check_unique_handle(
    workspace_id: int, platform: str, handle: str, exclude_pk: int | None = None
) -> None:
    # Handles are case-insensitive on every platform, so @Acme and @acme are one account.
    clash = Channel.objects.filter(
        workspace_id=workspace_id, platform=platform, handle__iexact=handle
    )
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    archived = clash.filter(archived_at__isnull=False).exists()
    if archived:
        raise ChannelError(
            "duplicate_channel",
            "This account is an archived channel of the workspace: restore it from the archived "
            "channels instead.",
            "handle",
        )
    if clash.exists():
        raise ChannelError(
            "duplicate_channel", "This account is already a channel of the workspace.", "handle"
        )


def do_create_channel(
    workspace: Workspace, *, platform: str, handle: str, url: str = "", actor: User | None
) -> Channel:
    """Add a social account as a channel. The handle loses a leading @ and extra spaces."""
    platform, handle, url = _clean_channel(platform, handle, url)
    try:
        with transaction.atomic():
            _check_unique_handle(workspace.pk, platform, handle)
            channel = Channel.objects.create(
                workspace=workspace, platform=platform, handle=handle, url=url
            )
    except IntegrityError:  # a concurrent create of the same account won the race
        raise ChannelError(
            "duplicate_channel", "This account is already a channel of the workspace.", "handle"
        ) from None
    logger.info("channel %s created by %s", channel.pk, actor)
    return channel


def do_update_channel(
    channel: Channel, *, platform: str, handle: str, url: str, actor: User | None
) -> Channel:
    """Change a channel's platform, handle or address; its history and links stay with it."""
    platform, handle, url = _clean_channel(platform, handle, url)
    with transaction.atomic():
        _check_unique_handle(channel.workspace_id, platform, handle, exclude_pk=channel.pk)
        Channel.objects.filter(pk=channel.pk).update(platform=platform, handle=handle, url=url)
    logger.info("channel %s updated by %s", channel.pk, actor)
    channel.refresh_from_db()
    return channel


def channel_has_history(channel: Channel) -> bool:
    """True when the channel has follower counts or tracked links (archived ones included)."""
    return (
        FollowerSnapshot.objects.filter(channel_id=channel.pk).exists()
        or TrackedLink.objects.filter(channel_id=channel.pk).exists()
    )


def do_remove_channel(channel: Channel, *, actor: User | None) -> Removal:
    """Remove a channel: archive it when it has follower counts or links, else delete it.

    Archived, it leaves the channel list, the link form and the Owned vs rented report, and
    keeps its history: its links keep working and past Sources figures stay explainable (the
    report lists an archived channel only for a period it had traffic in). Raises ChannelError
    (``archived``) when it is archived already.
    """
    with transaction.atomic():
        if not Channel.objects.filter(pk=channel.pk, archived_at__isnull=True).exists():
            raise ChannelError("archived", "This channel is archived already.")
        if not channel_has_history(channel):
            Channel.objects.filter(pk=channel.pk).delete()
            logger.info("channel %s (%s) deleted by %s", channel.pk, channel, actor)
            return Removal.DELETED
        channel.archived_at = timezone.now()
        Channel.objects.filter(pk=channel.pk).update(archived_at=channel.archived_at)
    logger.info("channel %s (%s) archived by %s", channel.pk, channel, actor)
    return Removal.ARCHIVED


def do_restore_channel(channel: Channel, *, actor: User | None) -> Channel:
    """Bring an archived channel back, with its history and links."""
    with transaction.atomic():
        if not Channel.objects.filter(pk=channel.pk, archived_at__isnull=False).update(
            archived_at=None
        ):
            raise ChannelError("not_archived", "This channel is not archived.")
    channel.archived_at = None
    logger.info("channel %s restored by %s", channel.pk, actor)
    return channel


# --- follower snapshots -----------------------------------------------------------------------


def _too_old(day: date) -> str:
    """The message for a day before FIRST_DAY (typed in or in a CSV: the same words)."""
    return f"{day.isoformat()} is before {FIRST_DAY.year}: check the year."


def _check_snapshot(day: date, followers: int) -> None:
    if day > timezone.localdate():
        raise ChannelError("future_date", "The date is in the future.", "date")
    if day < FIRST_DAY:
        raise ChannelError("too_old", _too_old(day), "date")
    if not 0 <= followers <= MAX_FOLLOWERS:
        raise ChannelError(
            "invalid_followers", "The follower count must be a whole number from 0.", "followers"
        )


def do_record_snapshot(
    channel: Channel, *, day: date, followers: int, actor: User | None
) -> FollowerSnapshot:
    """Record the channel's follower count on ``day``; a second count for that day replaces it."""
    _check_snapshot(day, followers)
    with transaction.atomic():
        snapshot, _ = FollowerSnapshot.objects.update_or_create(
            channel=channel, date=day, defaults={"followers": followers}
        )
    logger.info("snapshot %s of channel %s recorded by %s", day, channel.pk, actor)
    return snapshot


def do_delete_snapshot(snapshot: FollowerSnapshot, *, actor: User | None) -> None:
    """Remove a follower count typed in by mistake."""
    with transaction.atomic():
        FollowerSnapshot.objects.filter(pk=snapshot.pk).delete()
    logger.info(
        "snapshot %s of channel %s deleted by %s", snapshot.date, snapshot.channel_id, actor
    )


def parse_day(value: str) -> date:
    """A date written ``YYYY-MM-DD`` (a time after ``T`` or a space is ignored), ``YYYY/MM/DD``
    or ``DD.MM.YYYY``, and nothing else: the follower CSV and the typed-in count share it.

    The whole text must be one of these forms, so a typo (2025-03-011, 2025-03-10x) is refused
    rather than read as another day. Slashed day-first or month-first dates (03/04/2024) are
    refused: they are ambiguous.
    """
    text = value.strip()
    if year_first := _DASHED_DATE.fullmatch(text) or _SLASHED_DATE.fullmatch(text):
        year, month, day = year_first.groups()
    elif day_first := _DOTTED_DATE.fullmatch(text):
        day, month, year = day_first.groups()
    elif _AMBIGUOUS_DATE.fullmatch(text):
        raise ValueError(
            f"“{text}” could be read day first or month first; write it as YYYY-MM-DD."
        )
    else:
        raise ValueError(f"“{text}” is not a date; write it as YYYY-MM-DD.")
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"“{text}” is written as a date, but there is no such day.") from None


def parse_count(value: str) -> int:
    """A whole number, optionally grouped by thousands (``12,345``, ``12.345``, ``12 345``)."""
    text = value.strip()
    if not (text.isascii() and text.isdigit()) and not _GROUPED_COUNT.fullmatch(text):
        raise ValueError(f"“{text}” is not a whole number of followers.")
    count = int(re.sub(r"\D", "", text))
    if count > MAX_FOLLOWERS:
        raise ValueError(f"{text} is more followers than Leadbase can store.")
    return count


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [" ".join(cell.lower().replace("_", " ").split()) for cell in header]
    return next((lowered.index(name) for name in names if name in lowered), None)


def read_snapshot_rows(path: str | PathLike[str]) -> tuple[dict[date, int], list[RowProblem]]:
    """Read a ``date,followers`` CSV into {day: count} and the problems of its bad rows.

    Raises ChannelError when the file itself cannot be used (not CSV, empty, no such columns,
    too many rows). A day listed twice is a problem of the second row.
    """
    try:
        info = sniff(path)
        date_col, count_col = (
            _column(info.header, DATE_HEADERS),
            _column(info.header, FOLLOWER_HEADERS),
        )
        if date_col is None or count_col is None:
            raise ChannelError(
                "missing_columns",
                "The file needs a “date” column and a “followers” column.",
                "file",
            )
        counts: dict[date, int] = {}
        seen_on: dict[date, int] = {}
        problems: list[RowProblem] = []
        for number, cells, problem in read_rows(path, info):
            if number > MAX_IMPORT_ROWS:
                raise ChannelError(
                    "too_many_rows", f"The file has more than {MAX_IMPORT_ROWS:,} rows.", "file"
                )
            if cells is None:
                problems.append(RowProblem(number, "malformed_row", problem))
                continue
            try:
                day = parse_day(cells[date_col])
            except ValueError as exc:
                problems.append(RowProblem(number, "invalid_date", str(exc)))
                continue
            # A second row of a day is a problem even when the first one's count is bad: fixing
            # that count must not bring a new problem to light on the next upload.
            duplicate = seen_on.get(day)
            seen_on.setdefault(day, number)
            try:
                count = parse_count(cells[count_col])
            except ValueError as exc:
                problems.append(RowProblem(number, "invalid_followers", str(exc)))
                continue
            if day > timezone.localdate():
                problems.append(
                    RowProblem(number, "future_date", f"{day:%Y-%m-%d} is in the future.")
                )
            elif day < FIRST_DAY:
                problems.append(RowProblem(number, "too_old", _too_old(day)))
            elif duplicate is not None:
                problems.append(
                    RowProblem(number, "duplicate_date", f"{day:%Y-%m-%d} is already on row {duplicate}.")
                )
            else:
                counts[day] = count
    except CsvError as exc:
        raise ChannelError(exc.code, exc.message, "file") from None
    return counts, problems


def do_import_snapshots(
    channel: Channel, path: str | PathLike[str], *, actor: User | None
) -> SnapshotImport:
    """Import follower counts from a CSV (columns ``date`` and ``followers``; see parse_day).

    All or nothing: any bad row raises SnapshotImportError listing every bad row with its
    reason, and no count is written. Days that already have a count get the file's count.
    """
    counts, problems = read_snapshot_rows(path)
    if problems:
        raise SnapshotImportError(problems)
    with transaction.atomic():
        existing = {
            s.date: s
            for s in FollowerSnapshot.objects.filter(channel=channel, date__in=list(counts))
        }
        for day, snapshot in existing.items():
            snapshot.followers = counts[day]
        FollowerSnapshot.objects.bulk_update(existing.values(), ["followers"], batch_size=500)
        FollowerSnapshot.objects.bulk_create(
            [
                FollowerSnapshot(channel=channel, date=d, followers=n)
                for d, n in counts.items()
                if d not in existing
            ],
            batch_size=500,
        )
    logger.info("%s follower counts imported into channel %s by %s", len(counts), channel.pk, actor)
    return SnapshotImport(created=len(counts) - len(existing), updated=len(existing))


# --- tracked links ----------------------------------------------------------------------------


@dataclass
class LinkSpec:
    """What a tracked link points at and how it is tagged (the fields of the link form)."""

    channel: Channel | None = None
    page: LandingPage | None = None
    target_url: str = ""
    label: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""


def _clean_spec(workspace_id: int, spec: LinkSpec) -> dict[str, object]:
    """The model values for ``spec``: checked target, defaults for utm_source and utm_medium."""
    if spec.channel is not None and spec.channel.workspace_id != workspace_id:
        raise ChannelError("not_found", "No such channel.", "channel")
    if spec.page is not None and spec.page.workspace_id != workspace_id:
        raise ChannelError("not_found", "No such landing page.", "page")
    target = with_scheme(spec.target_url.strip())
    if spec.page is not None and target:
        raise ChannelError(
            "two_targets", "Choose a landing page or a web address, not both.", "target_url"
        )
    if spec.page is None:
        if not target:
            raise ChannelError(
                "no_target", "Choose a landing page or enter a web address.", "target_url"
            )
        _check_url(target, "target_url")
    values: dict[str, object] = {
        "channel": spec.channel,
        "page": spec.page,
        "target_url": target,
        "label": " ".join(spec.label.split())[:200],
    }
    for name in UTM_FIELDS:
        values[name] = " ".join(getattr(spec, name).split())[:200]
    if not values["utm_source"] and spec.channel is not None:
        values["utm_source"] = spec.channel.platform
    values["utm_medium"] = values["utm_medium"] or DEFAULT_MEDIUM
    return values


def new_code() -> str:
    """A random, unguessable link code (CODE_LENGTH characters of CODE_ALPHABET)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def do_create_link(
    workspace: Workspace, spec: LinkSpec, *, code: str = "", actor: User | None
) -> TrackedLink:
    """Create a tracked link ``/r/<code>``: a custom ``code`` (3–32 of a–z, 0–9 and -, stored
    lowercase) or a random one. utm_source defaults to the channel's platform, utm_medium to
    "social"."""
    values = _clean_spec(workspace.pk, spec)
    custom = code.strip().lower()
    if custom and not CUSTOM_CODE.fullmatch(custom):
        raise ChannelError(
            "invalid_code",
            "A custom code has 3 to 32 letters, digits or dashes, and no dash at either end.",
            "code",
        )
    for _ in range(5):
        candidate = custom or new_code()
        try:
            with transaction.atomic():
                link = TrackedLink.objects.create(workspace=workspace, code=candidate, **values)
        except IntegrityError:
            if custom:
                raise ChannelError(
                    "code_taken", f"The code “{custom}” is already used by another link.", "code"
                ) from None
            continue  # a random code that happens to exist: draw another
        logger.info("tracked link %s created by %s", link.code, actor)
        return link
    raise ChannelError("code_taken", "Could not find a free link code; try again.", "code")


def do_update_link(link: TrackedLink, spec: LinkSpec, *, actor: User | None) -> TrackedLink:
    """Change where a link points and how it is tagged; its code and clicks stay."""
    values = _clean_spec(link.workspace_id, spec)
    with transaction.atomic():
        TrackedLink.objects.filter(pk=link.pk).update(**values)
    logger.info("tracked link %s updated by %s", link.code, actor)
    link.refresh_from_db()
    return link


def link_has_history(link: TrackedLink) -> bool:
    """True when the link has clicks, or journal rows came through it (leads attributed to it)."""
    return (
        LinkClick.objects.filter(link_id=link.pk).exists()
        or Submission.objects.filter(workspace_id=link.workspace_id, link_code=link.code).exists()
    )


def do_remove_link(link: TrackedLink, *, actor: User | None) -> Removal:
    """Remove a tracked link: archive it when it has history (``link_has_history``), else
    delete it, which frees its code.

    Archived, it leaves the link lists, but ``/r/<code>`` still redirects and counts clicks:
    the link is printed in posts that stay online, and breaking them costs visitors, not the
    marketer. Its clicks stay in the reports. Raises ChannelError (``archived``) when it is
    archived already.
    """
    with transaction.atomic():
        if not TrackedLink.objects.filter(pk=link.pk, archived_at__isnull=True).exists():
            raise ChannelError("archived", "This tracked link is archived already.")
        if not link_has_history(link):
            TrackedLink.objects.filter(pk=link.pk).delete()
            logger.info("tracked link %s deleted by %s", link.code, actor)
            return Removal.DELETED
        link.archived_at = timezone.now()
        TrackedLink.objects.filter(pk=link.pk).update(archived_at=link.archived_at)
    logger.info("tracked link %s archived by %s", link.code, actor)
    return Removal.ARCHIVED


def do_restore_link(link: TrackedLink, *, actor: User | None) -> TrackedLink:
    """Bring an archived tracked link back to the lists."""
    with transaction.atomic():
        if not TrackedLink.objects.filter(pk=link.pk, archived_at__isnull=False).update(
            archived_at=None
        ):
            raise ChannelError("not_archived", "This tracked link is not archived.")
    link.archived_at = None
    logger.info("tracked link %s restored by %s", link.code, actor)
    return link


def with_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` added to its query string, replacing parameters of the same name.

    The other parameters are kept verbatim and in order; a #fragment stays at the end.
    """
    parts = urlsplit(url)
    kept = [
        p for p in parts.query.split("&") if p and unquote_plus(p.partition("=")[0]) not in params
    ]
    added = [f"{quote_plus(k)}={quote_plus(v)}" for k, v in params.items()]
    return urlunsplit(parts._replace(query="&".join(kept + added)))


def is_page_online(page: LandingPage) -> bool:
    """True when ``/p/<slug>`` shows the page: it and its form are published, the form is not
    archived (reads ``page.form``: select it with the page)."""
    return page.is_published and page.form.is_published and page.form.archived_at is None


def link_destination(link: TrackedLink) -> str | None:
    """Where ``/r/<code>`` sends a visitor: the landing page ``/p/<slug>`` (or the target URL)
    with the link's non-empty UTM tags and ``lb_link=<code>``; None when it points nowhere:
    its landing page was deleted, or is offline (``is_page_online``), where the visitor would
    only find a 404 page and the click would count a visit to nothing."""
    if link.page_id:
        base = f"/p/{link.page.slug}" if is_page_online(link.page) else ""
    else:
        base = link.target_url
    if not base:
        return None
    params = {name: getattr(link, name) for name in UTM_FIELDS if getattr(link, name)}
    params["lb_link"] = link.code
    return with_query(base, params)


def clean_referrer(referrer: str) -> str:
    """The referring page without its query string and fragment (they may carry personal data
    such as click ids or e-mail addresses), or "" when it is not a web address."""
    try:
        parts = urlsplit(referrer.strip())
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))[:2000]


def do_record_click(link: TrackedLink, *, referrer: str, at: datetime | None = None) -> LinkClick:
    """Count one human click on ``link``: its time and the cleaned referrer, nothing else."""
    with transaction.atomic():
        return LinkClick.objects.create(
            link=link, at=at or timezone.now(), referrer=clean_referrer(referrer)
        )
