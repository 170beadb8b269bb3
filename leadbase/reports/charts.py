"""Server-rendered SVG line charts: no JavaScript, no chart library.

Pure functions (Django is used only to escape text and mark the result safe). A chart is
accessible — ``role="img"`` with a ``<title>`` and a ``<desc>`` the page passes in, and every
point has a ``<title>`` tooltip — and responsive: it has a viewBox and no fixed size, so it
scales to the width of its container. The x axis is time, placed proportionally (follower
counts are not recorded at regular intervals); each series is drawn against the left or the
right y axis, both starting at zero, because followers and leads differ by orders of magnitude.
Series are told apart by dash pattern as well as colour. An empty chart says so.
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
#: (stroke colour, dash pattern) by series index; the second series is dashed.
STYLES = (("#2456d6", ""), ("#c2410c", "6 4"))
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
    return f"{d:%b %Y}" if span_days > 300 else f"{d:%b} {d.day}"


def _text(x: float, y: float, body: str, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(body)}</text>'


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
    ident = re.sub(r"[^A-Za-z0-9_-]", "-", chart_id)
    has_right = any(s.axis == "right" for s in series)
    left, right = SIDE, WIDTH - (SIDE if has_right else 20)
    top, bottom = TOP, HEIGHT - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'class="chart" aria-labelledby="{ident}-title {ident}-desc" '
        f'font-family="system-ui, sans-serif" font-size="12" '
        f'style="width:100%;height:auto;max-width:{WIDTH * 1.5:.0f}px">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(description)}</desc>',
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
        f'fill="#fafbfc" stroke="#e1e5ea"/>',
    ]
    values = [v for s in series for v in s.values if v is not None]
    if not x or not values:
        parts.append(
            _text(
                (left + right) / 2,
                (top + bottom) / 2,
                "No data yet",
                text_anchor="middle",
                fill="#5f6b7a",
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
                    f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e1e5ea"/>'
                )
                parts.append(
                    _text(
                        left - 6,
                        y + 4,
                        short_number(tick),
                        text_anchor="end",
                        fill=STYLES[0][0] if has_right else "#5f6b7a",
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
                fill="#5f6b7a",
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
                fill="#5f6b7a",
                transform=f"rotate(90 {WIDTH - 10} {(top + bottom) / 2:.1f})",
            )
        )

    ticks = (
        sorted({first + (last - first) * i / (X_TICKS - 1) for i in range(X_TICKS)})
        if span
        else [first]
    )
    for tick in ticks:
        parts.append(
            _text(x_at(tick), bottom + 18, _day(tick, span), text_anchor="middle", fill="#5f6b7a")
        )

    legend_x = left
    for index, s in enumerate(series):
        colour, dash = STYLES[index % len(STYLES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        axis_note = f" ({s.axis} axis)" if has_right else ""
        parts.append(
            f'<line x1="{legend_x}" x2="{legend_x + 24}" y1="18" y2="18" stroke="{colour}" '
            f'stroke-width="2.5"{dash_attr}/>'
        )
        parts.append(_text(legend_x + 30, 22, s.name + axis_note, fill="#1c2430"))
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
