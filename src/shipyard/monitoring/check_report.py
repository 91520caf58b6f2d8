"""A check's report: one self-contained HTML page (no scripts, no external URLs) and the same
content as JSON, side by side (``<stem>.html``, ``<stem>.json``).

The page shows the window's metrics, each tracked metric over the monitor's history as an
inline SVG line chart, the drift of every column with the reference and current distribution
of each (the sections of :mod:`shipyard.monitoring.report`), and the data-quality results.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard._html import esc, fmt_num, page, write_atomic
from shipyard.monitoring._json import dumps
from shipyard.monitoring.entities import Check

if TYPE_CHECKING:
    from shipyard.monitoring.drift.entities import DriftReport
    from shipyard.monitoring.monitors import Monitor

PLOTTED = (
    "drift_share",
    "prediction_drift",
    "accuracy",
    "roc_auc",
    "f1",
    "log_loss",
    "mae",
    "rmse",
    "r2",
    "p99_latency_ms",
    "error_rate",
    "label_share",
)
_CSS = """
.lines { display: flex; flex-wrap: wrap; gap: 12px; }
.lines figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 6px; }
.lines figcaption { font-size: 12px; color: var(--muted); }
.lines polyline { fill: none; stroke: #0969da; stroke-width: 1.6; }
.lines circle { fill: #0969da; } .lines .axis { stroke: #8c959f; }
.lines text { font-size: 10px; fill: var(--muted); }
"""


def check_document(
    *,
    monitor: Monitor,
    when: dt.datetime,
    metrics: Mapping[str, float | None],
    details: Mapping[str, Any],
    history: Sequence[Check],
) -> dict[str, Any]:
    """The report's content as JSON-ready data."""
    return {
        "monitor": monitor.name,
        "model": monitor.model,
        "generated_at": when.isoformat(),
        "window": monitor.window.describe(),
        "rules": [r.text for r in monitor.alerts.rules],
        "holding": [r.text for r in monitor.alerts.rules if r.holds(metrics)],
        "metrics": dict(metrics),
        "details": dict(details),
        "history": _series(history, when, metrics),
    }


def write_check_report(
    stem: Path,
    *,
    monitor: Monitor,
    when: dt.datetime,
    metrics: Mapping[str, float | None],
    details: Mapping[str, Any],
    drift: DriftReport | None,
    history: Sequence[Check],
) -> Path:
    """Write ``<stem>.json`` and ``<stem>.html``; return the path of the HTML page."""
    doc = check_document(
        monitor=monitor, when=when, metrics=metrics, details=details, history=history
    )
    stem.parent.mkdir(parents=True, exist_ok=True)
    # not with_suffix: a monitor name may hold a dot (churn.v2)
    write_atomic(stem.parent / f"{stem.name}.json", dumps(doc, indent=2))
    html_path = stem.parent / f"{stem.name}.html"
    write_atomic(html_path, render_check_html(doc, drift))
    return html_path


def render_check_html(doc: Mapping[str, Any], drift: DriftReport | None) -> str:
    """The HTML page of a check document."""
    holding = doc["holding"]
    verdict = (
        f'<span class="badge fail status">ALERT</span> rules holding: {esc(", ".join(holding))}'
        if holding
        else '<span class="badge pass status">OK</span> no alert rule holds'
    )
    body = (
        f"<p>{verdict}</p><p class='muted'>model <b>{esc(doc['model'])}</b> · window: "
        f"{esc(doc['window'])} · generated {esc(doc['generated_at'])}</p>"
        "<h2>Metrics</h2>" + _metrics_table(doc["metrics"])
        + "<h2>Metrics over time</h2>" + _charts(doc["history"])
        + "<h2>Drift</h2>" + _drift_section(drift, doc["details"].get("reference"))
        + _quality_section(doc["details"].get("quality"))
    )  # fmt: skip
    from shipyard.monitoring.report import DRIFT_CSS

    return page(f"Monitor {doc['monitor']}", body, css=_CSS + DRIFT_CSS)


def _metrics_table(metrics: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{esc(k)}</td><td class='num'>{_num(v)}</td></tr>"
        for k, v in metrics.items()
        if not k.startswith("drift_score.")
    )
    return f"<table><tr><th>metric</th><th>value</th></tr>{rows}</table>"


def _series(
    history: Sequence[Check], when: dt.datetime, metrics: Mapping[str, float | None]
) -> dict[str, list[tuple[int, float]]]:
    points: dict[str, list[tuple[int, float]]] = {}
    ordered = [(c.started_at, c.metrics) for c in reversed(history)]
    ordered.append((int(when.timestamp() * 1000), metrics))
    for at, values in ordered:
        for name in PLOTTED:
            value = values.get(name)
            if value is not None and math.isfinite(float(value)):
                points.setdefault(name, []).append((at, float(value)))
    return points


def line_chart(points: Sequence[tuple[int, float]], *, caption: str) -> str:
    """An inline SVG line chart of (time ms, value) points, labelled with its range.

    >>> line_chart([(0, 1.0), (10, 2.0)], caption="x").count("<circle")
    2
    """
    width, height, pad = 300, 110, 22
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5

    def sx(x: float) -> float:
        return pad + (x - x0) / ((x1 - x0) or 1) * (width - 2 * pad)

    def sy(y: float) -> float:
        return height - pad - (y - y0) / (y1 - y0) * (height - 2 * pad)

    coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in points)
    dots = "".join(
        f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5"><title>{_num(y)}</title></circle>'
        for x, y in points
    )
    return (
        f'<figure><svg width="{width}" height="{height}" role="img" aria-label="{esc(caption)}">'
        f'<line class="axis" x1="{pad}" y1="{height - pad}" x2="{width - pad}" '
        f'y2="{height - pad}"/><polyline points="{coords}"/>{dots}'
        f'<text x="2" y="12">{_num(y1)}</text><text x="2" y="{height - pad}">{_num(y0)}</text>'
        f"</svg><figcaption>{esc(caption)} ({len(points)} checks)</figcaption></figure>"
    )


def _charts(series: Mapping[str, Sequence[tuple[int, float]]]) -> str:
    charts = [line_chart(points, caption=name) for name, points in series.items() if points]
    return f'<div class="lines">{"".join(charts)}</div>' if charts else "<p>no history yet</p>"


def _drift_section(drift: DriftReport | None, reference: str | None) -> str:
    if drift is None:
        return "<p class='muted'>drift not computed (drift off, or an empty window)</p>"
    from shipyard.monitoring.report import drift_sections

    against = f" against <b>{esc(reference)}</b>" if reference else ""
    return (
        f"<p>{len(drift.drifted_columns)} of {len(drift.tested)} column(s) drifted{against} "
        f"(share {_num(drift.share_drifted)}, {drift.n_ref_rows:,} reference rows, "
        f"{drift.n_cur_rows:,} current)</p>{drift_sections(drift)}"
    )


def _quality_section(quality: Mapping[str, Any] | None) -> str:
    if not quality:
        return ""
    rows = "".join(
        f"<tr{'' if r.get('passed') else ' class=fail'}><td>{esc(r.get('name'))}</td>"
        f"<td>{esc(r.get('severity'))}</td><td>{'pass' if r.get('passed') else 'FAIL'}</td>"
        f"<td>{esc(r.get('message', ''))}</td></tr>"
        for r in quality.get("results", [])
    )
    return (
        "<h2>Data quality</h2><table><tr><th>rule</th><th>severity</th><th>status</th>"
        f"<th>message</th></tr>{rows}</table>"
    )


def _num(value: Any) -> str:
    return "-" if value is None else fmt_num(value)
