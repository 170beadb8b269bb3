"""The SVG line chart: accessible, responsive, honest about empty data, safe with any text."""

from __future__ import annotations

from datetime import date, timedelta
from xml.etree import ElementTree

import pytest

from leadbase.reports.charts import Series, line_chart, nice_ticks, short_number

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
