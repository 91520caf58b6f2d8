"""A check's report: one self-contained HTML page (no scripts, no external URLs) and the same
content as JSON, side by side (``<stem>.html``, ``<stem>.json``).

The page shows the window's metrics, each tracked metric over the monitor's history as an
inline SVG line chart, the drift of every column (the drift report builder's section, with
reference and current distributions), data-quality results and performance.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.monitoring._json import dumps
from shipyard.monitoring.entities import Check

if TYPE_CHECKING:
    from shipyard.monitoring.drift.entities import DriftReport
    from shipyard.monitoring.monitors import Monitor

PLOTTED = (
    "drift_share",
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
_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1b1f24}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse}td,th{padding:.25rem .6rem;border-bottom:1px solid #eee;
text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.chart figcaption{font-size:12px;color:#555}
polyline{fill:none;stroke:#2563eb;stroke-width:1.6}circle{fill:#2563eb}
.axis{stroke:#999;stroke-width:1}.bad{color:#b91c1c;font-weight:600}.ok{color:#15803d}
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
    series = _series(history, when, metrics)
    return {
        "monitor": monitor.name,
        "model": monitor.model,
        "generated_at": when.isoformat(),
        "window": monitor.window.describe(),
        "rules": [r.text for r in monitor.alerts.rules],
        "holding": [r.text for r in monitor.alerts.rules if r.holds(metrics)],
        "metrics": dict(metrics),
        "details": dict(details),
        "history": series,
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
    """Write ``<stem>.json`` and ``<stem>.html``; return the HTML path."""
    doc = check_document(
        monitor=monitor, when=when, metrics=metrics, details=details, history=history
    )
    stem.parent.mkdir(parents=True, exist_ok=True)
    _write(stem.with_suffix(".json"), dumps(doc, indent=2))
    html_path = stem.with_suffix(".html")
    _write(html_path, render_check_html(doc, drift))
    return html_path


def render_check_html(doc: Mapping[str, Any], drift: DriftReport | None) -> str:
    """The HTML page of a check document."""
    title = f"Monitor {doc['monitor']} — {doc['generated_at']}"
    holding = doc["holding"]
    verdict = (
        f'<p class="bad">rules holding: {escape(", ".join(holding))}</p>'
        if holding
        else '<p class="ok">no alert rule holds</p>'
    )
    parts = [
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>",
        f"<p>model <b>{escape(str(doc['model']))}</b>, window: {escape(doc['window'])}</p>",
        verdict,
        "<h2>Metrics</h2>",
        _metrics_table(doc["metrics"]),
        "<h2>Metrics over time</h2>",
        _charts(doc["history"]),
        "<h2>Drift</h2>",
        _drift_section(drift),
        _quality_section(doc["details"].get("quality")),
        "</body></html>",
    ]
    return "".join(parts)


def _metrics_table(metrics: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{escape(k)}</td><td class=n>{_num(v)}</td></tr>"
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
        f'<figure class="chart"><svg width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(caption)}"><line class="axis" x1="{pad}" y1="{height - pad}" '
        f'x2="{width - pad}" y2="{height - pad}"/><polyline points="{coords}"/>{dots}'
        f'<text x="2" y="12" font-size="10">{_num(y1)}</text>'
        f'<text x="2" y="{height - pad}" font-size="10">{_num(y0)}</text></svg>'
        f"<figcaption>{escape(caption)} ({len(points)} checks)</figcaption></figure>"
    )


def _charts(series: Mapping[str, Sequence[tuple[int, float]]]) -> str:
    charts = [line_chart(points, caption=name) for name, points in series.items() if points]
    return f'<div class="charts">{"".join(charts)}</div>' if charts else "<p>no history yet</p>"


def _drift_section(drift: DriftReport | None) -> str:
    if drift is None:
        return "<p>drift not computed (drift off, or an empty window)</p>"
    rows = "".join(
        f"<tr><td>{escape(c.column)}</td><td>{escape(c.test)}</td><td class=n>"
        f"{_num(c.statistic)}</td><td class=n>{_num(c.p_value)}</td><td class=n>"
        f"{_num(c.effect_size)}</td><td class={'bad' if c.drifted else 'ok'}>"
        f"{'drifted' if c.drifted else 'stable'}</td></tr>"
        for c in drift.columns
    )
    return (
        f"<p>{len(drift.drifted_columns)} of {len(drift.tested)} column(s) drifted "
        f"(share {_num(drift.share_drifted)})</p><table><tr><th>column</th><th>test</th>"
        f"<th>statistic</th><th>p-value</th><th>effect size</th><th></th></tr>{rows}</table>"
    )


def _quality_section(quality: Mapping[str, Any] | None) -> str:
    if not quality:
        return ""
    rows = "".join(
        f"<tr><td>{escape(str(r.get('name')))}</td><td>{escape(str(r.get('severity')))}</td>"
        f"<td class={'ok' if r.get('passed') else 'bad'}>{'pass' if r.get('passed') else 'FAIL'}"
        f"</td><td>{escape(str(r.get('message', '')))}</td></tr>"
        for r in quality.get("results", [])
    )
    return (
        "<h2>Data quality</h2><table><tr><th>rule</th><th>severity</th><th>status</th>"
        f"<th>message</th></tr>{rows}</table>"
    )


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape(str(value))


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
