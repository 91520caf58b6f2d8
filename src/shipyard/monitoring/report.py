"""Drift reports as files: one self-contained HTML page and the same content as JSON.

The page needs no network and runs no script: the style sheet is inline, every chart is inline
SVG drawn here (reference and current shares side by side, per bin or per category) and no
external URL appears (a test checks it). Column names, categories and labels from the data are
escaped, so ``<script>`` in a category shows as text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from shipyard._html import esc, fmt_num, page, summary, write_atomic
from shipyard.errors import InvalidArgument
from shipyard.monitoring.drift.entities import ColumnDrift, Distribution, DriftReport

__all__ = [
    "DRIFT_CSS",
    "drift_report_dict",
    "drift_sections",
    "render_drift_html",
    "write_drift_html",
]

WIDTH = 340
HEIGHT = 96
ROW = 15
LABEL_W = 100
LABEL_CHARS = 16

DRIFT_CSS = """
.chart .ref { fill: #8c959f; } .chart .cur { fill: #0969da; }
.legend { font-size: 12px; } .legend i { display: inline-block; width: 10px; height: 10px;
  margin: 0 4px 0 10px; }
.legend .ref { background: #8c959f; } .legend .cur { background: #0969da; }
details { margin: 10px 0; } summary { cursor: pointer; font-weight: 600; }
"""


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _svg_open(width: int, height: int, caption: str) -> str:
    return (
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(caption)}">'
    )


def paired_histogram(dist: Distribution, *, caption: str) -> str:
    """Reference (grey) and current (blue) shares per numeric bin, side by side.

    >>> d = Distribution((0.5, 0.5), (0.2, 0.8), edges=(0.0, 1.0, 2.0))
    >>> svg = paired_histogram(d, caption="x <1>")
    >>> svg.count("<rect"), "x &lt;1&gt;" in svg
    (4, True)
    """
    edges = dist.edges or ()
    n = max(len(dist.reference), 1)
    top = max([*dist.reference, *dist.current, 0.0]) or 1.0
    step, plot = WIDTH / n, HEIGHT - 16
    bar = max(step / 2 - 0.5, 0.5)
    parts = [_svg_open(WIDTH, HEIGHT, caption)]
    for i, (r, c) in enumerate(zip(dist.reference, dist.current, strict=True)):
        lo = f"{edges[i]:.4g}" if i < len(edges) else ""
        hi = f"{edges[i + 1]:.4g}" if i + 1 < len(edges) else ""
        close = "]" if i == n - 1 else ")"
        for j, (css, share, side) in enumerate(((("ref", r, "reference")), ("cur", c, "current"))):
            height = plot * share / top
            tip = escape(f"[{lo}, {hi}{close} {side}: {share:.2%}")
            parts.append(
                f'<rect class="{css}" x="{i * step + j * bar + 0.5:.1f}" '
                f'y="{plot - height:.1f}" width="{bar:.1f}" height="{height:.1f}">'
                f"<title>{tip}</title></rect>"
            )
    parts.append(f'<line class="axis" x1="0" y1="{plot}" x2="{WIDTH}" y2="{plot}"/>')
    if edges:
        parts.append(f'<text class="label" x="0" y="{HEIGHT - 3}">{edges[0]:.4g}</text>')
        parts.append(
            f'<text class="label" x="{WIDTH}" y="{HEIGHT - 3}" text-anchor="end">'
            f"{edges[-1]:.4g}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def paired_bars(dist: Distribution, *, caption: str) -> str:
    """One row per category: a grey bar for its reference share, a blue one for its current.

    >>> d = Distribution((1.0, 0.0), (0.5, 0.5), labels=("a", "<new>"))
    >>> svg = paired_bars(d, caption="plan")
    >>> svg.count("<rect"), "&lt;new&gt;" in svg
    (4, True)
    """
    labels = dist.labels or ()
    top = max([*dist.reference, *dist.current, 0.0]) or 1.0
    bar_w = WIDTH - LABEL_W - 90
    height = ROW * max(len(labels), 1)
    parts = [_svg_open(WIDTH, height, caption)]
    for i, (label, r, c) in enumerate(zip(labels, dist.reference, dist.current, strict=True)):
        y = i * ROW
        parts.append(
            f'<text class="label" x="{LABEL_W - 4}" y="{y + 11}" text-anchor="end">'
            f"<title>{escape(label)}</title>{escape(_short(label))}</text>"
        )
        for j, (css, share) in enumerate((("ref", r), ("cur", c))):
            parts.append(
                f'<rect class="{css}" x="{LABEL_W}" y="{y + 2 + j * 6}" '
                f'width="{max(bar_w * share / top, 0.5):.1f}" height="5"/>'
            )
        parts.append(
            f'<text class="label" x="{LABEL_W + bar_w + 6}" y="{y + 11}">{r:.1%} → {c:.1%}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


# -- sections --------------------------------------------------------------------------------------


def _summary(report: DriftReport, reference: str | None, current: str | None, moment: str) -> str:
    if report.dataset_drift:
        badge = '<span class="badge fail status">DATASET DRIFT</span>'
    elif report.drifted_columns:
        badge = '<span class="badge warn status">SOME COLUMNS DRIFTED</span>'
    else:
        badge = '<span class="badge pass status">NO DRIFT</span>'
    about = []
    if reference:
        about.append(f"reference <b>{esc(reference)}</b>")
    if current:
        about.append(f"current <b>{esc(current)}</b>")
    about.append(f"generated {esc(moment)}")
    facts = [
        ("reference rows", f"{report.n_ref_rows:,}"),
        ("current rows", f"{report.n_cur_rows:,}"),
        ("columns tested", f"{len(report.tested):,} of {len(report.columns):,}"),
        ("drifted", f"{len(report.drifted_columns):,}"),
        ("share drifted", f"{report.share_drifted:.1%}"),
        ("dataset drift at", f"{report.config.drift_share:.0%}"),
        ("duration", f"{report.duration_s * 1000:,.0f} ms"),
    ]
    return summary(badge, about, facts)


def _note(col: ColumnDrift) -> str:
    if col.skipped:
        return esc(col.skipped)
    if col.new_categories:
        shown = ", ".join(col.new_categories[:5]) + (" …" if len(col.new_categories) > 5 else "")
        return f"new categories: {esc(shown)}"
    return ""


def _row(col: ColumnDrift) -> str:
    if col.skipped:
        status = '<span class="badge warn">skipped</span>'
    elif col.drifted:
        status = '<span class="badge fail">drift</span>'
    else:
        status = '<span class="badge pass">ok</span>'
    name = esc(col.column)
    if col.distribution is not None:
        name = f'<a href="#col-{esc(col.column)}">{name}</a>'
    effect = f"{fmt_num(col.effect_size)} <span class='muted'>{esc(col.effect_size_name)}</span>"
    p_value = "-" if col.p_value is None else fmt_num(col.p_value)
    text = [name, esc(col.kind), esc(col.test)]
    numbers = [
        fmt_num(col.statistic),
        p_value,
        effect,
        fmt_num(col.threshold),
    ]
    counts = [f"{col.n_ref:,} / {col.n_cur:,}", f"{col.null_ref:,} / {col.null_cur:,}"]
    cells = (
        "".join(f"<td>{c}</td>" for c in text)
        + "".join(f"<td class='num'>{c}</td>" for c in numbers)
        + f"<td>{status}</td>"
        + "".join(f"<td class='num'>{c}</td>" for c in counts)
        + f"<td>{_note(col)}</td>"
    )
    row_class = ' class="fail"' if col.drifted else ""
    return f"<tr{row_class}>{cells}</tr>"


def _columns_table(report: DriftReport) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "column", "kind", "test", "statistic", "p-value", "effect size", "threshold",
            "status", "values ref / cur", "nulls ref / cur", "note",
        )
    )  # fmt: skip
    rows = "".join(_row(c) for c in report.columns)
    return (
        f'<section id="columns"><h2>Columns</h2><div class="scroll"><table><thead><tr>{head}'
        f"</tr></thead><tbody>{rows}</tbody></table></div></section>"
    )


def _chart(col: ColumnDrift) -> str:
    dist = col.distribution
    if dist is None:
        return ""
    caption = f"reference and current distribution of {col.column}"
    if dist.edges is not None:
        return paired_histogram(dist, caption=caption)
    return paired_bars(dist, caption=caption)


def _card(col: ColumnDrift) -> str:
    p = "" if col.p_value is None else f" · p = {fmt_num(col.p_value)}"
    return (
        f'<div class="card" id="col-{esc(col.column)}"><h3>{esc(col.column)}</h3>'
        f'<p class="muted">{esc(col.test)} = {fmt_num(col.statistic)}{p} · '
        f"{esc(col.effect_size_name)} = {fmt_num(col.effect_size)} "
        f"(threshold {fmt_num(col.threshold)})</p>{_chart(col)}</div>"
    )


_LEGEND = '<p class="legend"><i class="ref"></i>reference<i class="cur"></i>current</p>'


def _distributions(report: DriftReport) -> str:
    drifted = [c for c in report.columns if c.drifted and c.distribution is not None]
    others = [c for c in report.columns if not c.drifted and c.distribution is not None]
    parts = ['<section id="distributions"><h2>Drifted columns</h2>']
    if drifted:
        parts.append(f'{_LEGEND}<div class="cards">{"".join(_card(c) for c in drifted)}</div>')
    else:
        parts.append('<p class="muted">No column drifted.</p>')
    if others:
        parts.append(
            f"<details><summary>Other columns ({len(others)})</summary>{_LEGEND}"
            f'<div class="cards">{"".join(_card(c) for c in others)}</div></details>'
        )
    parts.append("</section>")
    return "".join(parts)


# -- public ----------------------------------------------------------------------------------------


def _check(report: object) -> DriftReport:
    if not isinstance(report, DriftReport):
        raise InvalidArgument(f"expected a DriftReport, not {type(report).__name__}")
    return report


def drift_sections(report: DriftReport) -> str:
    """The columns table and the distribution charts as HTML, to embed in another page (a
    monitor's check report) whose style sheet includes ``shipyard._html.CSS`` and
    :data:`DRIFT_CSS`.

    Raises:
        InvalidArgument: ``report`` is not a ``DriftReport``.
    """
    report = _check(report)
    return _columns_table(report) + _distributions(report)


def render_drift_html(
    report: DriftReport,
    *,
    title: str | None = None,
    reference: str | None = None,
    current: str | None = None,
    generated_at: datetime | None = None,
) -> str:
    """The report as one self-contained HTML page (no scripts, no external URLs): a summary,
    a table of every column (test, statistic, p-value, effect size, threshold, status) and the
    reference-vs-current chart of each drifted column (the others folded below).

    Raises:
        InvalidArgument: ``report`` is not a ``DriftReport``.

    >>> import pandas as pd
    >>> from shipyard.monitoring.drift import compute_drift
    >>> r = compute_drift(pd.DataFrame({"x": [1.0, 2, 3]}), pd.DataFrame({"x": [7.0, 8, 9]}))
    >>> html = render_drift_html(r, title="<demo>")
    >>> "&lt;demo&gt;" in html and "<svg" in html and "<script" not in html
    True
    """
    report = _check(report)
    moment = (generated_at or datetime.now(UTC)).isoformat(timespec="seconds")
    body = _summary(report, reference, current, moment) + drift_sections(report)
    return page(title or "Drift report", body, css=DRIFT_CSS)


def drift_report_dict(
    report: DriftReport,
    *,
    reference: str | None = None,
    current: str | None = None,
    generated_at: datetime | None = None,
) -> dict[str, Any]:
    """``report.to_dict()`` plus what the HTML page shows around it: ``reference``,
    ``current`` and ``generated_at`` (ISO-8601, now in UTC by default).

    Raises:
        InvalidArgument: ``report`` is not a ``DriftReport``.
    """
    report = _check(report)
    moment = generated_at or datetime.now(UTC)
    return {
        **report.to_dict(),
        "reference": reference,
        "current": current,
        "generated_at": moment.isoformat(),
    }


def write_drift_html(
    report: DriftReport,
    path: str | Path,
    *,
    title: str | None = None,
    reference: str | None = None,
    current: str | None = None,
    generated_at: datetime | None = None,
) -> Path:
    """Write :func:`render_drift_html` to ``path`` (parent folders created, written to a
    temporary name and renamed). Returns the path.

    Raises:
        InvalidArgument: ``report`` is not a ``DriftReport`` or ``path`` is a directory.
    """
    target = Path(path)
    if target.is_dir():
        raise InvalidArgument(
            f"{str(target)!r} is a directory; give a file name such as drift.html"
        )
    html = render_drift_html(
        report, title=title, reference=reference, current=current, generated_at=generated_at
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, html)
    return target
