"""The report queries: *Sources* and *Owned vs rented* (docs/reports.md explains every figure).

Each figure is counted by SQL in a fixed number of grouped statements whatever the number of
leads, clicks or submissions, the same portable SQL on SQLite and PostgreSQL. A Sources table
groups each kind of row (clicks, journal rows, leads) on a plain column (the link, the link
code, the form, the UTM JSON as stored, the lead's first-touch columns) and adds up the few
groups by its own keys in Python: grouping on keys worked out per row (a link's channel looked
up for each journal row, tags read out of each row's JSON) made "All time" at 400,000 journal
rows take 1.6 s. Python otherwise only shapes the grouped rows (labels, ratios, weeks); the
channel table also reads the channels, to list those without traffic.

Attribution, in short:
- a *click* belongs to its tracked link's channel, landing page form and UTM tags;
- a *submission* (journal row) belongs to the channel of the link in its ``link_code``, to
  its form, and to the UTM tags it was posted with;
- a *new lead* belongs to its first touch: ``Lead.source``/``source_ref`` and ``utm_*``;
  for the channel table, a new lead is a processed submission through the channel's link
  whose outcome was ``created``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    FilteredRelation,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Concat, Lower
from django.utils import timezone

from leadbase.accounts.models import Workspace
from leadbase.capture.channels import FIRST_DAY
from leadbase.capture.models import (
    Channel,
    FollowerSnapshot,
    Form,
    LinkClick,
    Submission,
    SubmissionStatus,
    TrackedLink,
)
from leadbase.leads.models import (
    ConsentStatus,
    Lead,
    Purpose,
    Suppression,
    SuppressionKind,
)
from leadbase.lib.leadrow import clean_text
from leadbase.sqlite_backend.sorting import run_sorting_in_chunks

#: Period choices of the Sources report: key → (days or None for all time, label).
PERIODS = {
    "7": (7, "Last 7 days"),
    "30": (30, "Last 30 days"),
    "90": (90, "Last 90 days"),
    "all": (None, "All time"),
}
DEFAULT_PERIOD = "30"
#: Range choices of the Owned vs rented report: key → (weeks or None for all, label).
WEEK_RANGES = {
    "12": (12, "Last 12 weeks"),
    "26": (26, "Last 26 weeks"),
    "52": (52, "Last 52 weeks"),
    "all": (None, "All time"),
}
DEFAULT_WEEKS = "12"
METRICS = ("clicks", "submissions", "spam", "new_leads", "merged")
#: What a Sources row counts: the metrics, and the new leads and the clicks its conversion counts.
COUNTED = (*METRICS, "converted", "page_clicks")
#: Other spellings of a platform in utm_source (compared lowercased).
PLATFORM_ALIASES = {
    "x": ("x", "twitter"),
    "facebook": ("facebook", "fb"),
    "instagram": ("instagram", "ig"),
    "youtube": ("youtube", "yt"),
}


@dataclass
class Period:
    """A report period: its key (URL value), label and start (None: all time)."""

    key: str
    label: str
    since: datetime | None


def period_for(key: str | None) -> Period:
    """The Sources period named ``key`` ("7", "30", "90", "all"); anything else is the default."""
    key = key if key in PERIODS else DEFAULT_PERIOD
    days, label = PERIODS[key]
    return Period(key, label, timezone.now() - timedelta(days=days) if days else None)


@dataclass
class SourceRow:
    """One row of a Sources table: what it is (``name``, ``detail``) and its counts."""

    name: str
    detail: str
    clicks: int = 0
    submissions: int = 0
    spam: int = 0
    new_leads: int = 0
    merged: int = 0
    channel: Channel | None = None
    #: The new leads its conversion counts: those made by a form post that came through a
    #: tracked link (None: all of ``new_leads``).
    converted: int | None = None
    #: The clicks its conversion counts: those on links to a landing page (None: all of
    #: ``clicks``). A click sent to another website can never be seen to make a lead.
    page_clicks: int | None = None

    @property
    def conversion_pct(self) -> float | None:
        """Leads made through tracked links ÷ clicks on links to landing pages in percent, or
        None without such clicks. A lead of the row that came another way (an import, a form
        found without a link) had no click to convert: counted, it made a row of 3 clicks show
        833 %; a click to a shop elsewhere made a row read 0.0 %."""
        leads = self.new_leads if self.converted is None else self.converted
        clicks = self.clicks if self.page_clicks is None else self.page_clicks
        return leads * 100 / clicks if clicks else None


def totals(rows: list[SourceRow]) -> SourceRow:
    """The sum of a table's rows (each click, submission and lead is in at most one row)."""
    total = SourceRow("Total", "", converted=0, page_clicks=0)
    for row in rows:
        for name in METRICS:
            setattr(total, name, getattr(total, name) + getattr(row, name))
        # The rows' converted leads; a row without that count, its leads if it had clicks: an
        # import's thousands of leads over the campaigns' clicks made a Total of 3,234.5 %.
        total.converted += row.converted if row.converted is not None else (row.new_leads if row.clicks else 0)
        total.page_clicks += row.clicks if row.page_clicks is None else row.page_clicks
    return total


# --- Sources -----------------------------------------------------------------------------------


@dataclass
class SourcesTables:
    """The three tables of the Sources report for one period."""

    by_channel: list[SourceRow]
    by_lead_source: list[SourceRow]
    by_campaign: list[SourceRow]


def sources_report(workspace: Workspace, since: datetime | None) -> SourcesTables:
    """The Sources report's tables since ``since`` (None: all time), reading the clicks, the
    journal and the new leads once for the three of them. Its GROUP BYs sort up to the whole
    journal and lead table: in chunks on every core, or, when that fails (no room for the
    temporary files, say), in the connection's memory as other statements do."""
    return run_sorting_in_chunks(connection, lambda: _sources_tables(workspace, since))


def _sources_tables(workspace: Workspace, since: datetime | None) -> SourcesTables:
    links, journals = _clicked_links(workspace, since), _journals(workspace, since)
    new_leads = _new_leads(workspace, since)
    return SourcesTables(
        sources_by_channel(workspace, since, links, journals),
        sources_by_lead_source(workspace, since, links, journals, new_leads),
        sources_by_campaign(workspace, since, links, journals, new_leads),
    )


def _clicked_links(workspace: Workspace, since: datetime | None) -> list[dict]:
    """The workspace's tracked links (archived ones too) clicked since ``since``, each a dict of
    what the tables group it by (``channel_id``, ``form_slug``, ``utm_source``,
    ``utm_campaign``) with ``n``, its clicks since then.

    The clicks are counted per link on the (link, at) index, in one statement, and only then
    matched to their few links: joining every click to its link and grouping a million of them
    by the link's tags took a quarter of a second per table. A link without clicks in the period
    makes no row (a campaign with no traffic, an archived channel listed only when it had some)."""
    clicks = LinkClick.objects.filter(link__in=TrackedLink.objects.filter(workspace=workspace).values("pk"))
    if since:
        clicks = clicks.filter(at__gte=since)
    counted = dict(clicks.order_by().values_list("link_id").annotate(n=Count("pk")).values_list("link_id", "n"))
    links = TrackedLink.objects.filter(workspace=workspace).values(
        "pk", "channel_id", "utm_source", "utm_campaign", form_slug=F("page__form__slug")
    )
    return [{**link, "n": counted[link["pk"]]} for link in links if link["pk"] in counted]


def _to_page(link: dict) -> int:
    """A clicked link's clicks that conversion counts: those on a link to a landing page."""
    return link["n"] if link["form_slug"] is not None else 0


class _Journal(NamedTuple):
    """What a group of journal rows adds to a Sources row."""

    submissions: int = 0  # processed
    spam: int = 0
    created: int = 0  # processed with outcome "created": new leads, for the channel table
    merged: int = 0  # processed with outcome "merged"
    linked: int = 0  # created, through a tracked link: the leads conversion counts

    def plus(self, status: str, outcome: str, through_link: bool, n: int) -> _Journal:
        """These counts with ``n`` more rows of ``status`` and ``outcome``."""
        if status == SubmissionStatus.SPAM:
            return self._replace(spam=self.spam + n)
        created = n if outcome == "created" else 0
        return _Journal(
            self.submissions + n,
            self.spam,
            self.created + created,
            self.merged + (n if outcome == "merged" else 0),
            self.linked + (created if through_link else 0),
        )


@dataclass
class _Journals:
    """The journal rows since a time that count (processed, spam), added up three ways: by
    tracked link code (rows with one), by form id and by UTM tags (``utm_source``,
    ``utm_campaign``, as the leads keep them)."""

    by_link_code: dict[str, _Journal] = field(default_factory=dict)
    by_form: dict[int, _Journal] = field(default_factory=dict)
    by_tags: dict[tuple[str, str], _Journal] = field(default_factory=dict)


def _journals(workspace: Workspace, since: datetime | None) -> _Journals:
    """The journal rows since ``since`` that count, grouped on their plain columns (link code,
    form, UTM tags as posted, status, outcome) in one statement, then added up by each table's
    key for the few groups. Three statements, one per table, each summing five conditions, took
    twice as long (0.69-0.71 s against 0.35-0.46 s for 400,000 rows, both sorting in chunks);
    grouping on the tags themselves read them out of each row's JSON, half a second more."""
    rows = Submission.objects.filter(
        workspace=workspace, status__in=(SubmissionStatus.PROCESSED, SubmissionStatus.SPAM)
    )
    if since:
        rows = rows.filter(received_at__gte=since)
    grouped = (
        rows.order_by()
        .values_list("link_code", "form_id", "utm", "status", "outcome")
        .annotate(n=Count("pk"))
        .values_list("link_code", "form_id", "utm", "status", "outcome", "n")
    )
    journals = _Journals()
    for code, form_id, utm, status, outcome, n in grouped:
        tags = utm if isinstance(utm, dict) else {}
        for table, key in (
            (journals.by_link_code, code),
            (journals.by_form, form_id),
            (journals.by_tags, (_tag(tags.get("utm_source")), _tag(tags.get("utm_campaign")))),
        ):
            if key != "":  # a row without a link code is in no channel's count
                table[key] = table.get(key, _Journal()).plus(status, outcome or "", code != "", n)
    return journals


#: The first-touch columns of a lead the Sources tables group new leads by.
_FIRST_TOUCH = ("source", "source_ref", "utm_source", "utm_campaign")


def _new_leads(workspace: Workspace, since: datetime | None) -> list[tuple[str, str, str, str, int]]:
    """The leads created since ``since`` grouped by their first touch (``_FIRST_TOUCH``):
    (source, source_ref, utm_source, utm_campaign, count) for each group. One statement for
    both tables that count new leads, 15-20 % quicker than one each."""
    leads = Lead.objects.filter(workspace=workspace)
    if since:
        leads = leads.filter(created_at__gte=since)
    return list(
        leads.order_by().values_list(*_FIRST_TOUCH).annotate(n=Count("pk")).values_list(*_FIRST_TOUCH, "n")
    )


class _Tally(dict):
    """Counts (``COUNTED``: clicks, submissions, spam, new leads, merged, converted) by a
    table's row key."""

    def __missing__(self, key: Any) -> list[int]:
        self[key] = counts = [0] * len(COUNTED)
        return counts

    def add(self, key: Any, **counts: int) -> None:
        row = self[key]
        for name, n in counts.items():
            row[COUNTED.index(name)] += n

    def add_journal(self, key: Any, journal: _Journal, *, new_leads: bool = False) -> None:
        """Journal rows' submissions, spam, merges and leads made through a tracked link, and
        their new leads when ``new_leads`` (the channel table; the others count new leads by the
        leads' first touch)."""
        self.add(key, submissions=journal.submissions, spam=journal.spam, merged=journal.merged,
                 new_leads=journal.created if new_leads else 0, converted=journal.linked)


def sources_by_channel(
    workspace: Workspace, since: datetime | None, links: list[dict] | None = None,
    journals: _Journals | None = None,
) -> list[SourceRow]:
    """Per channel (every channel of the workspace not archived, and archived ones with
    traffic in the period; by platform and handle), since ``since``: clicks on its tracked
    links (archived links included); journal rows whose ``link_code`` is one of its links —
    processed (submissions), spam, processed with outcome ``created`` (new leads) and
    ``merged``. ``links`` and ``journals``: ``_clicked_links`` and ``_journals`` for the
    period, when read already (the same for the other two tables)."""
    tally = _Tally()
    for link in _clicked_links(workspace, since) if links is None else links:
        if link["channel_id"] is not None:
            tally.add(link["channel_id"], clicks=link["n"], page_clicks=_to_page(link))
    by_code = (journals or _journals(workspace, since)).by_link_code
    if by_code:
        channel_of = dict(TrackedLink.objects.filter(workspace=workspace).values_list("code", "channel_id"))
        for code, counts in by_code.items():
            if channel_of.get(code) is not None:
                tally.add_journal(channel_of[code], counts, new_leads=True)
    rows = []
    # An archived channel is listed only for a period it had traffic in, so totals add up.
    channels = Channel.objects.filter(Q(archived_at__isnull=True) | Q(pk__in=list(tally)), workspace=workspace)
    for channel in channels.order_by("platform", "handle"):
        row = SourceRow(channel.get_platform_display(), channel.handle, channel=channel)
        for name, value in zip(COUNTED, tally.get(channel.pk, (0,) * len(COUNTED)), strict=True):
            setattr(row, name, value)
        rows.append(row)
    return rows


def _table(tally: _Tally) -> list[SourceRow]:
    rows = [SourceRow(name or "", detail or "", **dict(zip(COUNTED, counts, strict=True)))
            for (name, detail), counts in tally.items()]
    return sorted(rows, key=lambda r: (-r.new_leads, -r.submissions, -r.clicks, r.name, r.detail))


def sources_by_lead_source(
    workspace: Workspace, since: datetime | None, links: list[dict] | None = None,
    journals: _Journals | None = None, new_leads: list[tuple[str, str, str, str, int]] | None = None,
) -> list[SourceRow]:
    """Per first-touch source (``Lead.source``, ``Lead.source_ref``), since ``since``: new
    leads created with it; for forms (source ``form``, ref = the form's slug) also the clicks
    on tracked links to the form's landing pages and the form's journal rows. The busiest
    source first."""
    tally = _Tally()
    for link in _clicked_links(workspace, since) if links is None else links:
        if link["form_slug"] is not None:
            tally.add(("form", link["form_slug"]), clicks=link["n"], page_clicks=link["n"])
    by_form = (journals or _journals(workspace, since)).by_form
    slugs = dict(Form._base_manager.filter(pk__in=list(by_form)).values_list("pk", "slug"))
    for form_id, counts in by_form.items():
        tally.add_journal(("form", slugs[form_id]), counts)
    for source, ref, _, _, n in _new_leads(workspace, since) if new_leads is None else new_leads:
        tally.add((source, ref), new_leads=n)
    return _table(tally)


def sources_by_campaign(
    workspace: Workspace, since: datetime | None, links: list[dict] | None = None,
    journals: _Journals | None = None, new_leads: list[tuple[str, str, str, str, int]] | None = None,
) -> list[SourceRow]:
    """Per (utm_source, utm_campaign), since ``since``: clicks on tracked links with those
    tags, journal rows posted with them, and new leads whose first touch had them (values
    compared exactly as written; untagged traffic is the row with both empty). The busiest
    campaign first."""
    tally = _Tally()
    for link in _clicked_links(workspace, since) if links is None else links:
        tally.add((link["utm_source"], link["utm_campaign"]), clicks=link["n"], page_clicks=_to_page(link))
    for tags, counts in (journals or _journals(workspace, since)).by_tags.items():
        tally.add_journal(tags, counts)
    for _, _, utm_source, utm_campaign, n in _new_leads(workspace, since) if new_leads is None else new_leads:
        tally.add((utm_source, utm_campaign), new_leads=n)
    return _table(tally)


def _tag(value: Any) -> str:
    """A UTM value posted into the journal's ``utm`` as the lead it made keeps it (whitespace
    folded: ``clean_text``), so a campaign's posts and new leads make one row ("" when absent)."""
    return clean_text(value)


# --- Owned vs rented ---------------------------------------------------------------------------


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


class _Sha256Hex(Func):
    """The hex SHA-256 of a text, as ``hashlib.sha256(text.encode()).hexdigest()``: on SQLite
    through the SHA256 function Django registers on every connection, on PostgreSQL with its
    built-in ``sha256()`` (Django's own SHA256 needs the pgcrypto extension there)."""

    function = "SHA256"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):  # type: ignore[no-untyped-def]
        return self.as_sql(
            compiler,
            connection,
            template="ENCODE(SHA256(CONVERT_TO(%(expressions)s, 'UTF8')), 'hex')",
            **extra_context,
        )


def _with_reachable_since(leads: QuerySet[Lead], workspace: Workspace) -> QuerySet[Lead]:
    """``leads`` with when each became reachable, per contact channel: ``email_at``, the time
    of a granted email marketing consent of a lead with a valid email that is not suppressed,
    and ``calls_at``, of a granted calls consent of a lead with a valid phone that is not
    suppressed; NULL when not. The earlier of the two (``_EARLIEST``) is when the lead became
    owned audience; a lead whose every channel is suppressed (or whose only consented channel
    is) is not.

    Each purpose's granted consent is joined (a lead has one consent per purpose): one index
    lookup per lead and purpose, where a test that it exists and a second subquery for its
    time took two, a fifth of the report's time at 300,000 leads. Two columns rather than one
    ``LEAST(COALESCE(e, c), COALESCE(c, e))``, which ran each channel's work twice per lead.

    Suppressions are stored as SHA-256 of ``kind:normalized value`` (``leads.batch.
    contact_hash``); the database computes the same hash (``_Sha256Hex``) and looks it up
    through the (workspace, kind, value_hash) unique index, for the kinds ``workspace`` has
    suppressions of: SQLite runs SHA-256 as a Python function, 0.14 s for 73,000 consented
    leads, spent on a test that cannot fail when nothing of that kind is suppressed.
    """
    suppressed_kinds = set(
        Suppression.objects.filter(workspace=workspace).order_by().values_list("kind", flat=True).distinct()
    )

    def usable(consent: str, kind: str, contact: str) -> Case:
        usable_contact = Q(**{f"{contact}__isnull": False, f"{consent}__at__isnull": False})
        if kind in suppressed_kinds:
            suppressed = Suppression.objects.filter(
                workspace_id=OuterRef("workspace_id"),
                kind=kind,
                value_hash=_Sha256Hex(Concat(Value(f"{kind}:"), OuterRef(contact))),
            )
            # The conditions are tested in order and the first false one ends the test: the
            # contact is hashed only for consented leads.
            usable_contact &= ~Exists(suppressed)
        return Case(
            When(usable_contact, then=F(f"{consent}__at")),
            default=None,
            output_field=DateTimeField(),
        )

    def granted(purpose: str) -> FilteredRelation:
        return FilteredRelation(
            "consents", condition=Q(consents__purpose=purpose, consents__status=ConsentStatus.GRANTED)
        )

    return leads.annotate(
        email_consent=granted(Purpose.EMAIL_MARKETING), calls_consent=granted(Purpose.CALLS)
    ).annotate(
        email_at=usable("email_consent", SuppressionKind.EMAIL, "email_key"),
        calls_at=usable("calls_consent", SuppressionKind.PHONE, "phone_e164"),
    )


#: The earlier of a lead's ``email_at`` and ``calls_at`` (NULL when both are), in SQL that
#: SQLite and PostgreSQL read alike (LEAST is NULL on SQLite when either side is).
_EARLIEST = "CASE WHEN calls_at IS NULL OR email_at <= calls_at THEN email_at ELSE calls_at END"


def _fenced(sql: str) -> str:
    """``sql`` (a SELECT) with a no-op ``LIMIT … OFFSET 0``: neither SQLite nor PostgreSQL
    flattens such a subquery into the query around it, so its columns are computed once per
    row. Flattened, SQLite copied the reachability expression, with its subqueries and its
    SHA-256 calls, into each of the ~8 comparisons of the week CASE: 30 s for all weeks of a
    workspace of 300,000 leads."""
    no_limit = connection.ops.no_limit_value()
    return f"{sql} LIMIT {'ALL' if no_limit is None else no_limit} OFFSET 0"


def _week_case(column: str, weeks: list[date]) -> tuple[str, list]:
    """SQL for the Monday (``YYYY-MM-DD``) of the week among ``weeks`` that the datetime
    ``column`` falls in, NULL before the first; weeks start at local midnight.

    A balanced tree of CASEs, so a row costs log2(len(weeks)) comparisons. Plain comparisons
    rather than TruncWeek, which SQLite runs as a Python function per row (most of the time of
    this report on a large workspace).
    """
    starts = [
        connection.ops.adapt_datetimefield_value(timezone.make_aware(datetime.combine(w, time.min)))
        for w in weeks
    ]

    def choose(low: int, high: int) -> tuple[str, list]:
        # Outcome 0 is "before the first week"; outcome k is weeks[k - 1].
        if low == high:
            return ("NULL", []) if low == 0 else ("%s", [weeks[low - 1].isoformat()])
        middle = (low + high + 1) // 2
        later, later_params = choose(middle, high)
        earlier, earlier_params = choose(low, middle - 1)
        return f"CASE WHEN {column} >= %s THEN {later} ELSE {earlier} END", [
            starts[middle - 1],
            *later_params,
            *earlier_params,
        ]

    return choose(0, len(weeks))


def owned_by_channel_week(
    workspace: Workspace, platforms: list[str], weeks: list[date]
) -> list[tuple[str, int | None, date | None, int]]:
    """Reachable consented leads grouped by how they can be attributed and the week they became
    reachable: rows (platform matched by utm_source or "", channel of the tracked link their
    creating submission came through or None, Monday among ``weeks`` or None before them,
    count).

    Only leads some channel may claim are counted: first-touch utm_source (lowercased) is one
    of ``platforms`` or an alias of it, or the submission that created them carries a tracked
    link code (the caller matches the channel). One grouped statement, after one that reads which
    kinds of suppression the workspace has.
    """
    aliases = {p: PLATFORM_ALIASES.get(p, (p,)) for p in platforms}
    platform = Case(
        *[When(Q(src__in=names), then=Value(p)) for p, names in aliases.items()],
        default=Value(""),
        output_field=CharField(),
    )
    link_channel = (
        Submission.objects.filter(lead_id=OuterRef("pk"), outcome="created")
        .exclude(link_code="")
        .annotate(
            ch=Subquery(
                TrackedLink.objects.filter(code=OuterRef("link_code")).values("channel_id")[:1]
            )
        )
        # The first received (a lead merged into another brings its own; a replayed post keeps
        # the time it was received, not the order it was written in).
        .order_by("received_at", "pk")
        .values("ch")[:1]
    )
    through_links = Submission.objects.filter(workspace=workspace, outcome="created").exclude(
        link_code=""
    )
    leads = (
        Lead.objects.filter(workspace=workspace)
        .annotate(src=Lower("utm_source"))
        # The uncorrelated tests first, so the per-lead subqueries below only run for the leads
        # some channel may claim, not for every lead of the workspace.
        .filter(
            Q(src__in=sorted({a for names in aliases.values() for a in names}))
            | Q(pk__in=through_links.values("lead_id"))
        )
        # The link's channel is looked up only for the leads a link created: for the others (most
        # leads a channel claims by their utm_source) the lookup found nothing, 0.08 s of the
        # report at 135,000 such leads.
        .annotate(
            k0=platform,
            k1=Case(
                When(pk__in=through_links.values("lead_id"), then=Subquery(link_channel)),
                default=None,
                output_field=IntegerField(),
            ),
        )
    )
    leads = (
        _with_reachable_since(leads, workspace)
        .order_by()
        .values("k0", "k1", "email_at", "calls_at")
    )
    inner, inner_params = leads.query.sql_with_params()
    week, week_params = _week_case("since", weeks)
    # Each lead's reachability is computed once, in the fenced innermost SELECT; the levels
    # around it pick the earlier channel, drop the unreachable and bucket by week.
    sql = (
        f"SELECT k0, k1, week, COUNT(*) FROM (SELECT k0, k1, {week} AS week FROM "
        f"(SELECT k0, k1, {_EARLIEST} AS since FROM ({_fenced(inner)}) leads) reach "
        f"WHERE since IS NOT NULL) weeks GROUP BY k0, k1, week"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*week_params, *inner_params])
        return [
            (p, ch, w and date.fromisoformat(str(w)[:10]), int(n))
            for p, ch, w, n in cursor.fetchall()
        ]


@dataclass
class ChannelTrend:
    """One channel over the report's weeks (Mondays): ``followers`` is the last count on or
    before each week's end (None before the first count), ``owned`` the reachable consented
    leads attributed to the channel up to each week's end; ``owned_before`` those before the
    first week."""

    channel: Channel
    weeks: list[date]
    followers: list[int | None] = field(default_factory=list)
    owned: list[int] = field(default_factory=list)
    owned_before: int = 0

    @property
    def followers_now(self) -> int | None:
        return self.followers[-1] if self.followers else None

    @property
    def owned_now(self) -> int:
        return self.owned[-1] if self.owned else self.owned_before

    @property
    def owned_new(self) -> int:
        """Owned leads gained during the report's weeks."""
        return self.owned_now - self.owned_before

    @property
    def per_thousand(self) -> float | None:
        """Owned leads per 1,000 followers at the latest week (None without a follower count)."""
        return self.owned_now * 1000 / self.followers_now if self.followers_now else None


def has_archived_channels(workspace: Workspace) -> bool:
    """Whether the workspace has archived channels: an empty report then says that the
    channels it has are archived, not that it has none."""
    return Channel.objects.filter(workspace=workspace, archived_at__isnull=False).exists()


def owned_vs_rented(workspace: Workspace, weeks: int | None) -> list[ChannelTrend]:
    """Every channel's followers and owned leads week by week, over the last ``weeks`` weeks
    (the current one included) or, with None, since the first follower count or channel
    (owned leads from before are in the first week's figure).

    Four statements whatever the data: the channels, their snapshots, the kinds of suppression
    the workspace has, and the grouped owned leads (``owned_by_channel_week``). A lead
    attributed to a channel both by its utm_source and by a tracked link counts once for it.
    Archived channels are left out.
    """
    channels = list(
        Channel.objects.filter(workspace=workspace, archived_at__isnull=True).order_by(
            "platform", "handle"
        )
    )
    if not channels:
        return []
    history: dict[int, list[tuple[date, int]]] = defaultdict(list)
    snapshots = FollowerSnapshot.objects.filter(
        channel__workspace=workspace, channel__archived_at__isnull=True
    ).order_by("channel_id", "date")
    for channel_id, day, followers in snapshots.values_list("channel_id", "date", "followers"):
        history[channel_id].append((day, followers))

    today = timezone.localdate()
    end = _week_start(today)
    if weeks:
        start = end - timedelta(weeks=weeks - 1)
    else:
        firsts = [points[0][0] for points in history.values()]
        first = min([timezone.localdate(c.created_at) for c in channels] + firsts)
        # A count from before FIRST_DAY (recorded before it was refused) is a typo: starting
        # there would make the report thousands of empty weeks long.
        start = _week_start(max(first, FIRST_DAY))
    week_list = [start + timedelta(weeks=i) for i in range((end - start).days // 7 + 1)]

    weekly: dict[int, dict[date | None, int]] = defaultdict(lambda: defaultdict(int))
    platforms = sorted({c.platform for c in channels})
    for platform, link_channel, week, count in owned_by_channel_week(
        workspace, platforms, week_list
    ):
        for channel in channels:
            if channel.pk == link_channel or (platform and platform == channel.platform):
                weekly[channel.pk][week] += count

    trends = []
    for channel in channels:
        counts, points = weekly[channel.pk], history[channel.pk]
        trend = ChannelTrend(channel, week_list, owned_before=counts.get(None, 0))
        cumulative, latest, index = trend.owned_before, None, 0
        for week in week_list:
            cumulative += counts.get(week, 0)
            week_end = min(week + timedelta(days=6), today)
            while index < len(points) and points[index][0] <= week_end:
                latest = points[index][1]
                index += 1
            trend.followers.append(latest)
            trend.owned.append(cumulative)
        trends.append(trend)
    return trends
