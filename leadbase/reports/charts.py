"""Server-rendered SVG charts, lines and bars: no JavaScript, no chart library.

Pure functions (Django is used only to escape text and mark the result safe). A chart is
accessible — ``role="img"`` with a ``<title>`` and a ``<desc>``, and every point or bar has a
``<title>`` tooltip — and responsive: it has a viewBox and no fixed size, so it scales to the
width of its container. Every text is escaped, and ids are reduced to ``[A-Za-z0-9_-]``.
Series are told apart by pattern (dashes, hatching) as well as colour. An empty chart says so.

``line_chart``: the x axis is time, placed proportionally (follower counts are not recorded at
regular intervals); each series is drawn against the left or the right y axis, both starting
at zero, because followers and leads differ by orders of magnitude.

``bar_chart``: horizontal bars grouped by category, one scale from zero for every series.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 300
TOP, BOTTOM, SIDE = 40, 44, 60
#: Series colours by index: blue, vermilion, bluish green (after the Okabe–Ito palette, told
#: apart with the common colour-vision deficiencies; patterns tell them apart without colour).
COLOURS = ("#2456d6", "#c2410c", "#047857")
INK, MUTED, GRID, PLOT = "#1c2430", "#5f6b7a", "#e1e5ea", "#fafbfc"
#: (stroke colour, dash pattern) by series index; the second series is dashed.
STYLES = ((COLOURS[0], ""), (COLOURS[1], "6 4"))
#: Points drawn as dots (with tooltips) up to this many per series.
MAX_DOTS = 120
X_TICKS = 6


@dataclass(frozen=True)
class Series:
    """One line: its name (legend and tooltips), one value per x (None: no value), its axis."""

    name: str
    values: Sequence[float | None]
    axis: str = "left"


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """Tick values from 0 to at least ``top`` in steps of 1, 2 or 5 × 10^k, at least 1 (the
    charted figures are counts)."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(step, 1)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def short_number(value: float) -> str:
    """12 → "12", 12,300 → "12.3k", 4,500,000 → "4.5M" (axis labels)."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:g}"


def _day(d: date, span_days: int) -> str:
    # Over a year, with the year; always with the day: "Dec 2025, Mar 2026, Jul 2026" read as
    # uneven gaps between labels 17 weeks apart.
    return f"{d:%b} {d.day}, {d.year}" if span_days > 300 else f"{d:%b} {d.day}"


def _text(x: float, y: float, body: str, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(body)}</text>'


def _ident(chart_id: str) -> str:
    """``chart_id`` made safe for an id attribute and a ``url(#…)`` reference."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", chart_id)


def _head(ident: str, height: float, title: str, description: str) -> list[str]:
    """The opening ``<svg>`` (an image named by its title and description) and those two."""
    return [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
            f'role="img" class="chart" aria-labelledby="{ident}-title {ident}-desc" '
            f'font-family="system-ui, sans-serif" font-size="12" '
            f'style="width:100%;height:auto;max-width:{WIDTH * 1.5:.0f}px">'
        ),
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(description)}</desc>',
    ]


def _plot(left: float, top: float, right: float, bottom: float) -> str:
    """The plot area's background."""
    return (
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
        f'fill="{PLOT}" stroke="{GRID}"/>'
    )


def _segments(points: list[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Runs of consecutive points; a None (no value) breaks the line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            runs.append([])
        else:
            runs[-1].append(point)
    return [run for run in runs if run]


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    x: Sequence[date],
    series: Sequence[Series],
    left_label: str = "",
    right_label: str = "",
) -> SafeString:
    """An SVG line chart of ``series`` (at most two) over the dates ``x``.

    ``title`` and ``description`` are what a screen reader announces; ``chart_id`` makes the
    ids of the title and description unique on the page.
    """
    ident = _ident(chart_id)
    has_right = any(s.axis == "right" for s in series)
    left, right = SIDE, WIDTH - (SIDE if has_right else 20)
    top, bottom = TOP, HEIGHT - BOTTOM
    parts = [
        *_head(ident, HEIGHT, title, description),
        _plot(left, top, right, bottom),
    ]
    values = [v for s in series for v in s.values if v is not None]
    if not x or not values:
        parts.append(
            _text(
                (left + right) / 2,
                (top + bottom) / 2,
                "No data yet",
                text_anchor="middle",
                fill=MUTED,
            )
        )
        parts.append("</svg>")
        return mark_safe("".join(parts))

    first, last = min(x), max(x)
    span = (last - first).days

    def x_at(d: date) -> float:
        return (left + right) / 2 if span == 0 else left + (d - first).days / span * (right - left)

    scales: dict[str, list[float]] = {}
    for axis in ("left", "right"):
        axis_values = [v for s in series if s.axis == axis for v in s.values if v is not None]
        if axis_values:
            scales[axis] = nice_ticks(max(axis_values))

    def y_at(value: float, axis: str) -> float:
        return bottom - value / scales[axis][-1] * (bottom - top)

    for axis, ticks in scales.items():
        for tick in ticks:
            y = y_at(tick, axis)
            if axis == "left":
                parts.append(
                    f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
                )
                parts.append(
                    _text(
                        left - 6,
                        y + 4,
                        short_number(tick),
                        text_anchor="end",
                        fill=STYLES[0][0] if has_right else MUTED,
                    )
                )
            else:
                parts.append(_text(right + 6, y + 4, short_number(tick), fill=STYLES[1][0]))
    if left_label:
        parts.append(
            _text(
                14,
                (top + bottom) / 2,
                left_label,
                text_anchor="middle",
                fill=MUTED,
                transform=f"rotate(-90 14 {(top + bottom) / 2:.1f})",
            )
        )
    if right_label and has_right:
        parts.append(
            _text(
                WIDTH - 10,
                (top + bottom) / 2,
                right_label,
                text_anchor="middle",
                fill=MUTED,
                transform=f"rotate(90 {WIDTH - 10} {(top + bottom) / 2:.1f})",
            )
        )

    # Labels under dates the chart has points for (the Mondays of a weekly chart): evenly
    # spaced dates between the ends sat under no point, or another week's. Every ``step``-th
    # point counted back from the latest, so the gaps are equal (indices rounded from an even
    # spread put two weeks in one gap and three in the next) and the latest date is labelled;
    # the first too when a step up to twice the least one divides the span.
    dates = sorted(set(x))
    least = max(1, math.ceil((len(dates) - 1) / (X_TICKS - 1)))
    step = next((n for n in range(least, 2 * least + 1) if (len(dates) - 1) % n == 0), least)
    for tick in dates[::-1][::step]:
        # The latest at the right edge without a right axis: ended there, not centred past it.
        anchor = "end" if tick == dates[-1] and not has_right and len(dates) > 1 else "middle"
        at = right if anchor == "end" else x_at(tick)
        parts.append(_text(at, bottom + 18, _day(tick, span), text_anchor=anchor, fill=MUTED))

    legend_x = left
    for index, s in enumerate(series):
        colour, dash = STYLES[index % len(STYLES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        axis_note = f" ({s.axis} axis)" if has_right else ""
        parts.append(
            f'<line x1="{legend_x}" x2="{legend_x + 24}" y1="18" y2="18" stroke="{colour}" '
            f'stroke-width="2.5"{dash_attr}/>'
        )
        parts.append(_text(legend_x + 30, 22, s.name + axis_note, fill=INK))
        legend_x += 40 + 7 * len(s.name + axis_note)

        points = [
            None if v is None else (x_at(d), y_at(v, s.axis))
            for d, v in zip(x, s.values, strict=True)
        ]
        for run in _segments(points):
            coords = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2.5" '
                f'stroke-linejoin="round"{dash_attr}/>'
            )
        if len(x) <= MAX_DOTS:
            for d, v, point in zip(x, s.values, points, strict=True):
                if point is not None:
                    label = f"{d:%Y-%m-%d}: {v:,.0f} {s.name.lower()}"
                    parts.append(
                        f'<circle cx="{point[0]:.1f}" cy="{point[1]:.1f}" r="3.5" fill="{colour}">'
                        f"<title>{escape(label)}</title></circle>"
                    )
    parts.append("</svg>")
    return mark_safe("".join(parts))


# --- Bars --------------------------------------------------------------------------------------

#: Left of the bars: room for a category's name, cut to MAX_LABEL characters.
LABEL_WIDTH, MAX_LABEL = 190, 22
#: Right of the bars: room for the figure printed at the end of the longest one.
VALUE_ROOM = 56
BAR, BAR_GAP, GROUP_GAP = 12, 2, 14
BAR_TOP, BAR_BOTTOM = 36, 28


def truncate(label: str, limit: int = MAX_LABEL) -> str:
    """``label`` cut to at most ``limit`` characters, the last one an ellipsis when cut."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _count(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _fill(ident: str, index: int, colour: str) -> tuple[str, str]:
    """The ``<pattern>`` definition (or "") and the fill of series ``index``: solid, diagonal
    hatching, dots — so the series are told apart in grey print and without colour vision."""
    pid = f"{ident}-fill-{index}"
    kind = index % 3
    if kind == 0:
        return "", colour
    if kind == 1:
        body = (
            f'<pattern id="{pid}" width="5" height="5" patternUnits="userSpaceOnUse" '
            f'patternTransform="rotate(45)"><rect width="5" height="5" fill="#fff"/>'
            f'<rect width="2.5" height="5" fill="{colour}"/></pattern>'
        )
    else:
        body = (
            f'<pattern id="{pid}" width="4" height="4" patternUnits="userSpaceOnUse">'
            f'<rect width="4" height="4" fill="#fff"/>'
            f'<circle cx="2" cy="2" r="1.4" fill="{colour}"/></pattern>'
        )
    return body, f"url(#{pid})"


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    empty: str = "Nothing to chart",
) -> SafeString:
    """An SVG horizontal bar chart: per category, top to bottom in the order given, one bar per
    series (at most three; their ``axis`` is ignored), grouped.

    Grouped, not stacked: the figures it is made for (clicks, submissions, new leads) are the
    steps of one funnel, not parts of a whole. Stacked, they would add up to a total that
    means nothing and hide the drop from one step to the next; side by side on one scale, a
    marketer sees at a glance how much traffic each channel brings and how much of it becomes
    leads, and compares channels step by step. Horizontal, because channel names are long
    and read left to right, and the chart grows downward with the number of channels.

    Every bar is drawn on one scale from zero to a round tick at or above the largest value
    (the values are counts, never negative), and has its figure printed at its end, so a
    small count next to a large one is still read exactly, and a ``<title>`` tooltip. The
    ``<desc>`` is ``description`` followed by every figure ("Instagram @acme: clicks 4,
    submissions 3, new leads 2; …"): a screen reader gets the whole chart as text. A
    category name longer than ``MAX_LABEL`` characters is cut, the full name in its
    ``<title>``. Without a category, or with every value zero or None, the chart says
    ``empty`` instead. ``chart_id`` makes the ids of the title, description and patterns
    unique on the page.
    """
    for s in series:
        if len(s.values) != len(categories):
            raise ValueError(f"{s.name}: {len(s.values)} values for {len(categories)} categories")
    ident = _ident(chart_id)
    figures = [
        f"{name}: " + ", ".join(f"{s.name.lower()} {_count(s.values[i])}" for s in series)
        for i, name in enumerate(categories)
    ]
    summary = f"{description} {'; '.join(figures)}." if figures and series else description
    left, right, top = LABEL_WIDTH, WIDTH - VALUE_ROOM, BAR_TOP

    values = [v for s in series for v in s.values if v]
    if not values:
        head = _head(ident, top + 60 + BAR_BOTTOM, title, summary)
        message = _text(WIDTH / 2, top + 34, empty, text_anchor="middle", fill=MUTED)
        return mark_safe("".join([*head, _plot(20, top, WIDTH - 20, top + 60), message, "</svg>"]))

    group = len(series) * (BAR + BAR_GAP) - BAR_GAP + GROUP_GAP
    bottom = top + len(categories) * group
    ticks = nice_ticks(max(values))
    scale = (right - left) / ticks[-1]
    colours = [COLOURS[index % len(COLOURS)] for index in range(len(series))]
    patterns, fills = zip(
        *(_fill(ident, i, colour) for i, colour in enumerate(colours)), strict=True
    )
    parts = [
        *_head(ident, bottom + BAR_BOTTOM, title, summary),
        f"<defs>{''.join(patterns)}</defs>",
        _plot(left, top, right, bottom),
    ]
    for tick in ticks:
        x = left + tick * scale
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="{GRID}"/>')
        parts.append(_text(x, bottom + 16, short_number(tick), text_anchor="middle", fill=MUTED))

    legend_x = left
    for s, fill, colour in zip(series, fills, colours, strict=True):
        parts.append(
            f'<rect x="{legend_x}" y="12" width="14" height="12" fill="{fill}" stroke="{colour}"/>'
        )
        parts.append(_text(legend_x + 20, 22, s.name, fill=INK))
        legend_x += 36 + 7 * len(s.name)

    for i, name in enumerate(categories):
        first_bar = top + i * group + GROUP_GAP / 2
        label = truncate(name)
        full = f"<title>{escape(name)}</title>" if label != name else ""
        middle = first_bar + (group - GROUP_GAP) / 2
        parts.append(
            f'<text x="{left - 8}" y="{middle + 4:.1f}" text-anchor="end" fill="{INK}">'
            f"{full}{escape(label)}</text>"
        )
        for index, s in enumerate(series):
            value, fill, colour = s.values[i], fills[index], colours[index]
            y = first_bar + index * (BAR + BAR_GAP)
            if value:  # a zero or missing figure has no bar, only its number
                tooltip = f"{name}: {s.name.lower()} {_count(value)}"
                parts.append(
                    f'<rect x="{left}" y="{y:.1f}" width="{value * scale:.1f}" height="{BAR}" '
                    f'fill="{fill}" stroke="{colour}"><title>{escape(tooltip)}</title></rect>'
                )
            parts.append(
                _text(
                    left + (value or 0) * scale + 4,
                    y + BAR - 2,
                    _count(value),
                    fill=INK,
                    font_size="11",
                )
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))
