"""Report pages and their CSV downloads: *Sources* and *Owned vs rented*.

Every member of the workspace may read them (they show counts, no person). The figures come
from ``leadbase.reports.queries``; this module only picks the period, lays out the tables
and charts, and writes CSV with every cell neutralized against spreadsheet formulas.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import SafeString

from leadbase.capture.models import Form
from leadbase.leads.models import Source
from leadbase.lib.spreadsheet import neutralize
from leadbase.reports.charts import Series, bar_chart, line_chart
from leadbase.reports.queries import (
    DEFAULT_WEEKS,
    METRICS,
    PERIODS,
    WEEK_RANGES,
    ChannelTrend,
    Period,
    SourceRow,
    has_archived_channels,
    owned_vs_rented,
    period_for,
    sources_report,
    totals,
)
from leadbase.web.access import member_required

NONE = "(none)"
#: The figures of the channel chart, in the order of its bars: the three steps of the funnel
#: (spam is noise, merged submissions brought nobody new, conversion is a ratio: the table
#: has them).
CHANNEL_CHART = (("clicks", "Clicks"), ("submissions", "Submissions"), ("new_leads", "New leads"))


@dataclass
class Table:
    """One table of the Sources report, as shown and as exported; the page may chart it."""

    key: str
    title: str
    name_label: str
    detail_label: str
    rows: list[SourceRow]
    chart: SafeString | None = None

    @property
    def total(self) -> SourceRow:
        return totals(self.rows)


def _sources_tables(request: HttpRequest, since) -> list[Table]:
    tables = sources_report(request.membership.workspace, since)
    # A form is named as its marketer named it, its slug after: "Contact us (contact)".
    slugs = [row.detail for row in tables.by_lead_source if row.name == Source.FORM]
    names = dict(Form._base_manager.filter(workspace=request.membership.workspace, slug__in=slugs)
                 .values_list("slug", "name")) if slugs else {}
    for row in tables.by_lead_source:
        if row.name == Source.FORM and row.detail in names:
            row.detail = f"{names[row.detail]} ({row.detail})"
        row.name = Source(row.name).label if row.name in Source.values else row.name
    for row in tables.by_campaign:
        row.name, row.detail = row.name or NONE, row.detail or NONE
    return [
        Table("channel", "By channel", "Channel", "Handle", tables.by_channel),
        Table("source", "By lead source", "Source", "Reference", tables.by_lead_source),
        Table("campaign", "By UTM campaign", "utm_source", "utm_campaign", tables.by_campaign),
    ]


def _channel_chart(rows: list[SourceRow], period: Period) -> SafeString:
    """Clicks, submissions and new leads per channel, as bars, in the order of the table."""
    return bar_chart(
        chart_id="sources-channel",
        title=f"Clicks, submissions and new leads per channel, {period.label.lower()}",
        description=f"{period.label}, per channel, in the order of the table.",
        categories=[str(row.channel) if row.channel else row.name for row in rows],
        series=[Series(label, [getattr(row, key) for row in rows]) for key, label in CHANNEL_CHART],
        empty="No clicks, submissions or new leads in this period",
    )


def _csv_response(
    filename: str, header: list[str], rows: Iterable[Iterable[object]]
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow(neutralize("" if cell is None else str(cell)) for cell in row)
    return response


def _fixed(value: float, places: int) -> str:
    """``value`` with ``places`` decimals, rounded half up as the pages' ``floatformat`` does,
    so a CSV cell is the figure on the page (an f-string rounds 0.125 to 0.12, the page to
    0.13)."""
    return str(Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


@member_required
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/index.html", {"nav": "reports"})


@member_required
def sources(request: HttpRequest) -> HttpResponse:
    """Clicks, submissions, spam, new leads, merges and conversion per channel, lead source and
    UTM campaign, over the chosen period; the channel table is also drawn as bars."""
    period = period_for(request.GET.get("period"))
    tables = _sources_tables(request, period.since)
    for table in tables:
        if table.key == "channel":
            table.chart = _channel_chart(table.rows, period)
    context = {"period": period, "periods": PERIODS, "tables": tables, "nav": "reports"}
    if not any(table.rows for table in tables if table.key == "channel"):
        context["archived_only"] = has_archived_channels(request.membership.workspace)
    return render(request, "reports/sources.html", context)


@member_required
def sources_csv(request: HttpRequest) -> HttpResponse:
    period = period_for(request.GET.get("period"))
    rows = (
        [
            table.key,
            row.name,
            row.detail,
            *(getattr(row, m) for m in METRICS),
            "" if row.conversion_pct is None else _fixed(row.conversion_pct, 1),
        ]
        for table in _sources_tables(request, period.since)
        for row in table.rows
    )
    filename = f"sources-{period.key}-{timezone.localdate():%Y-%m-%d}.csv"
    return _csv_response(filename, ["table", "name", "detail", *METRICS, "conversion_pct"], rows)


def _weeks(request: HttpRequest) -> tuple[str, int | None]:
    key = request.GET.get("weeks")
    key = key if key in WEEK_RANGES else DEFAULT_WEEKS
    return key, WEEK_RANGES[key][0]


def _long_day(day) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _chart(trend: ChannelTrend) -> str:
    first, last = trend.weeks[0], trend.weeks[-1]
    known = [f for f in trend.followers if f is not None]
    followers = (
        f"followers from {known[0]:,} to {known[-1]:,}" if known else "no follower count recorded"
    )
    description = (
        f"Weekly, from the week of {_long_day(first)} to the week of {_long_day(last)}: "
        f"{followers}; "
        f"reachable consented leads from {trend.owned[0]:,} to {trend.owned[-1]:,}."
    )
    return line_chart(
        chart_id=f"owned-{trend.channel.pk}",
        title=f"{trend.channel}: followers (rented) vs reachable leads (owned)",
        description=description,
        x=trend.weeks,
        series=[
            Series("Followers", trend.followers),
            Series("Owned leads", trend.owned, axis="right"),
        ],
        left_label="Followers",
        right_label="Owned leads",
    )


@member_required
def owned(request: HttpRequest) -> HttpResponse:
    """Per channel: followers over time against reachable consented leads attributed to it,
    cumulative by week, and leads per 1,000 followers."""
    key, weeks = _weeks(request)
    trends = owned_vs_rented(request.membership.workspace, weeks)
    context = {
        "trends": [(trend, _chart(trend)) for trend in trends],
        "weeks_key": key,
        "ranges": WEEK_RANGES,
        "nav": "reports",
        "archived_only": not trends and has_archived_channels(request.membership.workspace),
    }
    return render(request, "reports/owned.html", context)


@member_required
def owned_csv(request: HttpRequest) -> HttpResponse:
    key, weeks = _weeks(request)
    rows = (
        [
            str(t.channel),
            t.channel.platform,
            t.channel.handle,
            f"{week:%Y-%m-%d}",
            followers,
            owned,
            "" if not followers else _fixed(owned * 1000 / followers, 2),
        ]
        for t in owned_vs_rented(request.membership.workspace, weeks)
        for week, followers, owned in zip(t.weeks, t.followers, t.owned, strict=True)
    )
    header = [
        "channel",
        "platform",
        "handle",
        "week",
        "followers",
        "owned_leads",
        "leads_per_1000_followers",
    ]
    return _csv_response(f"owned-vs-rented-{key}-{timezone.localdate():%Y-%m-%d}.csv", header, rows)
