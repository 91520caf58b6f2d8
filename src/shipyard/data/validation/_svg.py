"""Small inline SVG charts for the HTML report: a histogram and a horizontal bar chart.

The charts are plain SVG markup built in Python: no JavaScript, no external fonts or URLs (an
inline ``<svg>`` in HTML5 needs no ``xmlns``), and every label goes through ``html.escape``.
Colours come from CSS classes (``bar``, ``axis``, ``label``) the report's style sheet defines.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["bar_chart", "histogram"]

WIDTH = 320
HIST_HEIGHT = 70
ROW_HEIGHT = 16
LABEL_CHARS = 18


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def histogram(counts: Sequence[int], edges: Sequence[str], *, caption: str) -> str:
    """An SVG histogram of ``counts`` (one bar per bin) with ``edges`` as bin boundaries
    (len(counts) + 1 labels; the first and last are printed under the axis, each bar carries
    its bin and count as a tooltip). ``caption`` is the chart's accessible name.

    >>> svg = histogram([1, 3], ["0", "1", "2"], caption="x <1>")
    >>> svg.startswith("<svg") and svg.count("<rect") == 2 and "x &lt;1&gt;" in svg
    True
    """
    top = max(counts, default=0) or 1
    n = max(len(counts), 1)
    step = WIDTH / n
    plot = HIST_HEIGHT - 16
    parts = [
        f'<svg class="chart" width="{WIDTH}" height="{HIST_HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HIST_HEIGHT}" role="img" aria-label="{escape(caption)}">'
    ]
    for i, count in enumerate(counts):
        height = plot * count / top
        lo = edges[i] if i < len(edges) else ""
        hi = edges[i + 1] if i + 1 < len(edges) else ""
        close = "]" if i == len(counts) - 1 else ")"  # bins are [lo, hi), the last [lo, hi]
        tip = escape(f"[{lo}, {hi}{close}: {count:,}")
        parts.append(
            f'<rect class="bar" x="{i * step + 0.5:.1f}" y="{plot - height:.1f}" '
            f'width="{max(step - 1, 0.5):.1f}" height="{height:.1f}"><title>{tip}</title></rect>'
        )
    parts.append(f'<line class="axis" x1="0" y1="{plot}" x2="{WIDTH}" y2="{plot}"/>')
    if edges:
        first, last = escape(_short(str(edges[0]), 24)), escape(_short(str(edges[-1]), 24))
        parts.append(f'<text class="label" x="0" y="{HIST_HEIGHT - 3}">{first}</text>')
        parts.append(
            f'<text class="label" x="{WIDTH}" y="{HIST_HEIGHT - 3}" text-anchor="end">{last}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(items: Sequence[tuple[str, int]], total: int, *, caption: str) -> str:
    """An SVG horizontal bar chart: one row per ``(label, count)``, bar length relative to the
    largest count, the count and its share of ``total`` printed after the bar.

    >>> svg = bar_chart([("a", 3), ("<b>", 1)], 4, caption="plan")
    >>> svg.count("<rect"), "&lt;b&gt;" in svg, "75.0%" in svg
    (2, True, True)
    """
    label_w, number_w = 110, 100
    bar_w = WIDTH - label_w - number_w
    top = max((c for _, c in items), default=0) or 1
    height = ROW_HEIGHT * max(len(items), 1)
    parts = [
        f'<svg class="chart" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(caption)}">'
    ]
    for i, (label, count) in enumerate(items):
        y = i * ROW_HEIGHT
        share = f"{count / total:.1%}" if total else "-"
        length = max(bar_w * count / top, 1.0)
        parts.append(
            f'<text class="label" x="{label_w - 4}" y="{y + 12}" text-anchor="end">'
            f"<title>{escape(label)}</title>{escape(_short(label))}</text>"
            f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{length:.1f}" height="11"/>'
            f'<text class="label" x="{label_w + length + 4:.1f}" y="{y + 12}">'
            f"{count:,} ({share})</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
