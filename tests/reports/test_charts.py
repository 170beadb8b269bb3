"""The SVG line and bar charts: accessible, responsive, honest about empty data, safe with any
text."""

from __future__ import annotations

import re
from datetime import date, timedelta
from xml.etree import ElementTree

import pytest

from leadbase.reports.charts import (
    MAX_LABEL,
    Series,
    bar_chart,
    line_chart,
    nice_ticks,
    short_number,
    truncate,
)

SVG = "{http://www.w3.org/2000/svg}"
WEEKS = [date(2025, 3, 3) + timedelta(weeks=i) for i in range(4)]


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


def chart(x=WEEKS, series=None, **kwargs) -> str:
    series = (
        series
        if series is not None
        else [
            Series("Followers", [1000, 1100, None, 1300]),
            Series("Owned leads", [1, 2, 4, 7], axis="right"),
        ]
    )
    return line_chart(
        chart_id="c1",
        title="Followers vs leads",
        description="Four weeks.",
        x=x,
        series=series,
        left_label="Followers",
        right_label="Owned leads",
        **kwargs,
    )


def test_it_is_an_image_labelled_by_its_title_and_description():
    root = parse(chart())
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "Followers vs leads"
    assert root.find(f"{SVG}desc").text == "Four weeks."


def test_it_scales_with_its_container():
    root = parse(chart())
    assert root.get("viewBox") == "0 0 640 300"
    assert root.get("width") is None and "width:100%" in root.get("style")


def test_two_series_are_two_lines_and_a_gap_breaks_a_line():
    lines = parse(chart()).findall(f"{SVG}polyline")
    assert len(lines) == 3  # followers in two runs around the missing week, leads in one
    assert {line.get("stroke-dasharray") for line in lines} == {None, "6 4"}


def test_every_point_has_a_tooltip_and_both_axes_are_labelled():
    root = parse(chart())
    tooltips = [c.find(f"{SVG}title").text for c in root.iter(f"{SVG}circle")]
    assert "2025-03-24: 7 owned leads" in tooltips and len(tooltips) == 7
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"Followers", "Owned leads", "Followers (left axis)", "Owned leads (right axis)"} <= set(
        texts
    )
    assert "Mar 3" in texts


@pytest.mark.parametrize(("x", "series"), [([], []), (WEEKS, [Series("Followers", [None] * 4)])])
def test_an_empty_chart_says_there_is_no_data_yet(x, series):
    root = parse(chart(x=x, series=series))
    assert [t.text for t in root.iter(f"{SVG}text")] == ["No data yet"]
    assert root.find(f"{SVG}title").text == "Followers vs leads"


def test_a_single_point_is_drawn_in_the_middle():
    root = parse(chart(x=[date(2025, 3, 3)], series=[Series("Followers", [5])]))
    assert (
        root.find(f"{SVG}circle").get("cx") == "340.0"
    )  # halfway between the plot edges, 60 and 620


def test_text_is_escaped():
    svg = line_chart(
        chart_id='x" onload="alert(1)',
        title="<script>",
        description="&",
        x=WEEKS,
        series=[Series("<b>", [1, 2, 3, 4])],
    )
    root = parse(svg)
    assert root.find(f"{SVG}title").text == "<script>"
    assert "onload" not in root.attrib and "<script>" not in svg


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (0, [0, 1]),
        (3, [0, 1, 2, 3]),
        (7, [0, 2, 4, 6, 8]),
        (1300, [0, 500, 1000, 1500]),
        (10, [0, 5, 10]),
    ],
)
def test_ticks_are_round_numbers_from_zero(top, ticks):
    assert nice_ticks(top) == ticks


def test_axis_numbers_are_short():
    assert [short_number(v) for v in (7, 2.5, 12300, 4_500_000, 1000)] == [
        "7",
        "2.5",
        "12.3k",
        "4.5M",
        "1k",
    ]


# --- Bars --------------------------------------------------------------------------------------

FUNNEL = ("Clicks", "Submissions", "New leads")


def bars(categories=("Instagram @acme", "Facebook @acmefb"), values=None, **kwargs) -> str:
    values = values if values is not None else [[1200, 300], [40, 12], [10, 0]]
    return bar_chart(
        chart_id="b1",
        title="Per channel",
        description="Last 30 days, per channel.",
        categories=list(categories),
        series=[Series(name, v) for name, v in zip(FUNNEL, values, strict=True)],
        **kwargs,
    )


def bar_widths(root: ElementTree.Element) -> dict[str, float]:
    """Tooltip → width of every bar (a bar is the only rect with a tooltip)."""
    return {
        rect.find(f"{SVG}title").text: float(rect.get("width"))
        for rect in root.iter(f"{SVG}rect")
        if rect.find(f"{SVG}title") is not None
    }


def texts(root: ElementTree.Element, **attrs: str) -> list[str]:
    """The visible text of every <text> with those attributes (a tooltip is not visible)."""
    return [
        "".join([t.text or "", *(child.tail or "" for child in t)])
        for t in root.iter(f"{SVG}text")
        if all(t.get(k.replace("_", "-")) == v for k, v in attrs.items())
    ]


def test_a_bar_chart_is_an_image_described_by_every_figure():
    root = parse(bars())
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "b1-title b1-desc"
    assert root.find(f"{SVG}title").text == "Per channel"
    assert root.find(f"{SVG}desc").text == (
        "Last 30 days, per channel. "
        "Instagram @acme: clicks 1,200, submissions 40, new leads 10; "
        "Facebook @acmefb: clicks 300, submissions 12, new leads 0."
    )
    assert root.get("viewBox").startswith("0 0 640 ") and "width:100%" in root.get("style")


def test_bars_are_proportional_to_their_figures_and_zero_has_no_bar():
    widths = bar_widths(parse(bars()))
    assert set(widths) == {
        "Instagram @acme: clicks 1,200",
        "Instagram @acme: submissions 40",
        "Instagram @acme: new leads 10",
        "Facebook @acmefb: clicks 300",
        "Facebook @acmefb: submissions 12",
    }
    clicks = widths["Instagram @acme: clicks 1,200"]
    for tooltip, width in widths.items():
        value = int(tooltip.rsplit(" ", 1)[1].replace(",", ""))
        assert width == pytest.approx(clicks * value / 1200, abs=0.1)


def test_every_figure_is_printed_beside_its_bar_zero_included():
    assert texts(parse(bars()), font_size="11") == ["1,200", "40", "10", "300", "12", "0"]


def test_the_scale_ends_on_the_round_tick_at_or_above_the_largest_figure():
    root = parse(bars())
    assert texts(root, text_anchor="middle") == ["0", "500", "1k", "1.5k"]
    plot = root.find(f"{SVG}rect")
    longest = bar_widths(root)["Instagram @acme: clicks 1,200"]
    assert longest == pytest.approx(float(plot.get("width")) * 1200 / 1500, abs=0.1)


def test_the_chart_grows_with_the_number_of_categories():
    one = parse(bars(categories=["A"], values=[[1], [1], [1]]))
    three = parse(bars(categories=["A", "B", "C"], values=[[1, 2, 3]] * 3))
    assert float(three.get("viewBox").split()[3]) > float(one.get("viewBox").split()[3])


def test_series_are_told_apart_by_pattern_as_well_as_colour_and_named_in_a_legend():
    root = parse(bars())
    patterns = root.find(f"{SVG}defs").findall(f"{SVG}pattern")
    assert [p.get("id") for p in patterns] == ["b1-fill-1", "b1-fill-2"]
    styles = [
        ("#2456d6", "#2456d6"),
        ("url(#b1-fill-1)", "#c2410c"),
        ("url(#b1-fill-2)", "#047857"),
    ]
    bars_drawn = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert [(r.get("fill"), r.get("stroke")) for r in bars_drawn[:3]] == styles
    swatches = [r for r in root.iter(f"{SVG}rect") if r.get("width") == "14"]
    assert [(r.get("fill"), r.get("stroke")) for r in swatches] == styles
    assert texts(root, fill="#1c2430")[:3] == list(FUNNEL)


def test_a_channel_name_is_text_not_markup():
    svg = bar_chart(
        chart_id='x" onload="alert(1)',
        title="<b>",
        description="&",
        categories=["<script>"],
        series=[Series("<i>", [3])],
    )
    root = parse(svg)
    assert "<script>" not in svg and "<i>" not in svg and "onload" not in root.attrib
    assert root.find(f"{SVG}title").text == "<b>"
    assert root.find(f"{SVG}desc").text == "& <script>: <i> 3."
    assert texts(root, text_anchor="end") == ["<script>"]
    assert list(bar_widths(root)) == ["<script>: <i> 3"]


def test_a_long_name_is_cut_and_keeps_its_full_name_in_a_tooltip():
    name = "Instagram @a-very-long-handle-for-a-small-bakery"
    root = parse(bars(categories=[name, "X @short"], values=[[5, 1], [2, 1], [1, 0]]))
    assert texts(root, text_anchor="end") == [truncate(name), "X @short"]
    assert len(truncate(name)) == MAX_LABEL and truncate(name).endswith("…")
    labels = [t for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert labels[0].find(f"{SVG}title").text == name
    assert labels[1].find(f"{SVG}title") is None
    assert f"{name}: clicks 5" in bar_widths(root) and name in root.find(f"{SVG}desc").text


@pytest.mark.parametrize(
    ("name", "cut"),
    [
        ("", ""),
        ("x" * MAX_LABEL, "x" * MAX_LABEL),
        ("ab " + "x" * MAX_LABEL, "ab " + "x" * (MAX_LABEL - 4) + "…"),
    ],
)
def test_only_names_longer_than_the_limit_are_cut(name, cut):
    assert truncate(name) == cut


@pytest.mark.parametrize(
    ("categories", "values"),
    [([], [[], [], []]), (["Instagram @acme", "Facebook @acmefb"], [[0, 0], [0, 0], [0, None]])],
)
def test_an_empty_bar_chart_says_there_is_nothing_to_chart(categories, values):
    root = parse(bars(categories=categories, values=values))
    assert [t.text for t in root.iter(f"{SVG}text")] == ["Nothing to chart"]
    assert bar_widths(root) == {}
    assert root.find(f"{SVG}title").text == "Per channel"


def test_the_empty_message_can_be_given():
    root = parse(bars(values=[[0, 0]] * 3, empty="No clicks in this period"))
    assert [t.text for t in root.iter(f"{SVG}text")] == ["No clicks in this period"]
    assert "clicks 0" in root.find(f"{SVG}desc").text


def test_a_series_must_have_one_value_per_category():
    with pytest.raises(ValueError, match="Clicks: 1 values for 2 categories"):
        bars(values=[[1], [1, 2], [1, 2]])


def test_the_date_labels_are_dates_of_points():
    """A weekly chart's labels name its weeks' Mondays, not dates evenly spaced between its ends."""

    mondays = [date(2026, 9, 21) + timedelta(weeks=n) for n in range(10)]
    svg = str(line_chart(chart_id="w", title="t", description="d", x=mondays,
                         series=[Series("Followers", list(range(10)))]))
    labels = re.findall(r'<text x="[0-9.]+" y="[0-9.]+" text-anchor="(?:middle|end)" fill="[^"]+">([A-Z][a-z]{2} \d+)</text>', svg)
    assert labels and len(labels) <= 6
    assert set(labels) <= {f"{d:%b} {d.day}" for d in mondays}
    assert labels[0] == "Nov 23" and labels[-1] == "Sep 21"  # the latest first, as drawn; both ends


def test_over_a_year_the_labels_say_day_month_and_year():
    mondays = [date(2025, 12, 1) + timedelta(weeks=n) for n in range(53)]
    svg = str(line_chart(chart_id="w", title="t", description="d", x=mondays,
                         series=[Series("Followers", list(range(53)))]))
    labels = re.findall(r'>([A-Z][a-z]{2} \d+, 20\d\d)</text>', svg)
    assert labels[0] == f"{mondays[-1]:%b} {mondays[-1].day}, {mondays[-1].year}" and len(labels) >= 4
    assert "Dec 1, 2025" in labels


@pytest.mark.parametrize("weeks", [8, 10, 13, 27, 40])  # within 300 days: labels "Mon D"
def test_the_date_labels_are_evenly_spaced_and_the_latest_ends_at_the_edge(weeks):
    """Twelve weeks were labelled Sep 7, Sep 21, Oct 5, Oct 26…: three weeks in one gap."""
    mondays = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(weeks)]
    svg = str(line_chart(chart_id="w", title="t", description="d", x=mondays,
                         series=[Series("Followers", list(range(weeks)))]))
    found = re.findall(r'<text x="([0-9.]+)" y="[0-9.]+" text-anchor="(middle|end)" fill="[^"]+">([A-Z][a-z]{2} \d+)</text>', svg)
    shown = [(d, float(x), anchor) for x, anchor, label in found for d in mondays if f"{d:%b} {d.day}" == label]
    indices = sorted(mondays.index(d) for d, _, _ in shown)
    assert indices[-1] == weeks - 1 and 2 <= len(indices) <= 6
    assert len({b - a for a, b in zip(indices, indices[1:])}) == 1  # equal gaps
    latest = max(shown)
    assert latest[2] == "end" and latest[1] <= 640  # inside the chart
