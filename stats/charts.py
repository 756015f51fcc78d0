"""Charts drawn on the server as inline SVG: nothing to load, nothing from a CDN, readable without
JavaScript and printable. Each chart is an image with a title (role="img", aria-label, <title>); the page
puts the table of its figures beside it, which is what screen readers and exports use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from core.formatting import french_number

# Girls, boys, unspecified: distinct in grey scale too (dark, medium, light), and named in the legend.
COLOURS = ("#7a1f2b", "#3d6a99", "#b9bec8")
WIDTH = 640
LABEL_WIDTH = 190
BAR_HEIGHT = 18
GAP = 8
FONT = 12


@dataclass
class Bar:
    label: str
    values: tuple[int, ...]  # one per series: (total,) or (girls, boys, unspecified)

    @property
    def total(self) -> int:
        return sum(self.values)


def _svg(chart_id: str, title: str, height: int, body: str) -> Markup:
    title = escape(title)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" '
        f'aria-label="{title}" font-size="{FONT}" font-family="system-ui, sans-serif">'
        f"<title>{title}</title>{body}</svg>"
    )


def _short(label: str, limit: int = 30) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _legend(series: Sequence[str], y: int) -> str:
    parts, x = [], LABEL_WIDTH
    for name, colour in zip(series, COLOURS, strict=False):
        parts.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{y}">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    return f'<g class="legend">{"".join(parts)}</g>'


def _empty(chart_id: str, title: str) -> Markup:
    return _svg(chart_id, title, 40, f'<text x="0" y="24" fill="#5b6475">{escape("Aucune donnée.")}</text>')


def hbars(chart_id: str, title: str, bars: Sequence[Bar], series: Sequence[str] = ()) -> Markup:
    """Horizontal bars, one per label (regions, sectors…), stacked when there are several series
    (girls / boys / unspecified); the total is written at the end of each bar."""
    if not bars or not any(b.total for b in bars):
        return _empty(chart_id, title)
    top = 24 if len(series) > 1 else 4
    scale_max = max(b.total for b in bars)
    room = WIDTH - LABEL_WIDTH - 60
    rows = []
    for i, bar in enumerate(bars):
        y = top + i * (BAR_HEIGHT + GAP)
        parts = [
            f'<text x="{LABEL_WIDTH - 6}" y="{y + BAR_HEIGHT - 5}" text-anchor="end">'
            f"{escape(_short(bar.label))}</text>"
        ]
        x = float(LABEL_WIDTH)
        for value, colour, name in zip(bar.values, COLOURS, series or ("",) * len(bar.values), strict=False):
            width = room * value / scale_max
            if width > 0:
                tip = f"{bar.label} — {name} : {french_number(value)}" if name else f"{bar.label} : {value}"
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" fill="{colour}">'
                    f"<title>{escape(tip)}</title></rect>"
                )
            x += width
        parts.append(f'<text x="{x + 4:.1f}" y="{y + BAR_HEIGHT - 5}">{french_number(bar.total)}</text>')
        rows.append(f'<g class="bar">{"".join(parts)}</g>')
    height = top + len(bars) * (BAR_HEIGHT + GAP)
    legend = _legend(series, 14) if len(series) > 1 else ""
    return _svg(chart_id, title, height, legend + "".join(rows))


def columns(chart_id: str, title: str, bars: Sequence[Bar], series: Sequence[str] = ()) -> Markup:
    """Vertical columns in order (years), stacked by series, the total above each column."""
    if not bars or not any(b.total for b in bars):
        return _empty(chart_id, title)
    height, top, bottom = 240, 40, 24
    room = height - top - bottom
    scale_max = max(b.total for b in bars)
    step = (WIDTH - 20) / len(bars)
    width = min(60.0, step * 0.7)
    parts = []
    for i, bar in enumerate(bars):
        x = 10 + i * step + (step - width) / 2
        y = float(height - bottom)
        for value, colour, name in zip(bar.values, COLOURS, series or ("",) * len(bar.values), strict=False):
            h = room * value / scale_max
            if h > 0:
                y -= h
                tip = f"{bar.label} — {name} : {french_number(value)}" if name else f"{bar.label} : {value}"
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}" fill="{colour}">'
                    f"<title>{escape(tip)}</title></rect>"
                )
        centre = x + width / 2
        parts.append(
            f'<text x="{centre:.1f}" y="{y - 4:.1f}" text-anchor="middle">{french_number(bar.total)}</text>'
        )
        parts.append(
            f'<text x="{centre:.1f}" y="{height - 6}" text-anchor="middle">{escape(_short(bar.label, 12))}</text>'
        )
    axis = f'<line x1="0" y1="{height - bottom}" x2="{WIDTH}" y2="{height - bottom}" stroke="#5b6475"/>'
    legend = _legend(series, 14) if len(series) > 1 else ""
    return _svg(chart_id, title, height, legend + axis + "".join(parts))
