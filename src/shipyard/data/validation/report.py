"""Validation reports as files: a self-contained HTML page and the matching JSON.

The HTML needs nothing but a browser and no network: the CSS sits in one ``<style>`` tag, the
charts are inline SVG drawn in Python (no JavaScript), and the page holds no external URL. Every
value that comes from the data, the suite or the caller (rule names, messages, example values,
column names, titles) is escaped with ``html.escape``, so a value like ``<script>`` shows as
text and never runs.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shipyard._html import esc as _e
from shipyard._html import fmt_num as _num
from shipyard._html import page, summary
from shipyard._html import write_atomic as _write_atomic
from shipyard.data.profile import ColumnProfile, TableProfile
from shipyard.data.validation._svg import bar_chart, histogram
from shipyard.data.validation.engine import RuleResult, ValidationReport
from shipyard.errors import InvalidArgument

__all__ = ["render_html", "report_dict", "write_reports"]

MAX_CELL_CHARS = 200


def _cell(value: Any) -> str:
    """One example value as table-cell HTML: null marked, long text cut, always escaped."""
    if value is None:
        return '<span class="null">null</span>'
    if isinstance(value, dict | list):
        text = json.dumps(value, default=str)
    elif isinstance(value, float):
        text = repr(value)  # every digit: the exact value that failed
    else:
        text = str(value)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return _e(text)


def _status(result: RuleResult) -> tuple[str, str]:
    """The CSS class and label of a rule's outcome."""
    if result.passed:
        return "pass", "passed"
    return ("fail", "failed") if result.severity == "error" else ("warn", "warning")


# -- sections --------------------------------------------------------------------------------------


def _summary(report: ValidationReport, dataset: str | None, generated_at: datetime | None) -> str:
    failed = report.failed
    if not report.passed:
        badge = '<span class="badge fail status">FAILED</span>'
    elif failed:
        badge = '<span class="badge warn status">PASSED with warnings</span>'
    else:
        badge = '<span class="badge pass status">PASSED</span>'
    about = [f"suite <b>{_e(report.suite)}</b>"]
    if dataset:
        about.append(f"dataset <b>{_e(dataset)}</b>")
    if generated_at is not None:
        about.append(f"generated {_e(generated_at.isoformat(timespec='seconds'))}")
    facts = [
        ("rows", f"{report.num_rows:,}"),
        ("rules", f"{len(report.results):,}"),
        ("passed", f"{len(report.results) - len(failed):,}"),
        ("failed", f"{len(failed):,}"),
        ("duration", f"{report.duration_s * 1000:,.1f} ms"),
        ("queries", f"{report.queries:,}"),
    ]
    return summary(badge, about, facts, _severity_table(report))


def _severity_table(report: ValidationReport) -> str:
    rows = []
    for severity in ("error", "warn"):
        results = [r for r in report.results if r.severity == severity]
        bad = sum(not r.passed for r in results)
        rows.append(
            f"<tr><td>{severity}</td><td class='num'>{len(results)}</td>"
            f"<td class='num'>{len(results) - bad}</td><td class='num'>{bad}</td></tr>"
        )
    return (
        "<table><thead><tr><th>severity</th><th>rules</th><th>passed</th><th>failed</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _rules_table(report: ValidationReport) -> str:
    rows = []
    for i, res in enumerate(report.results):
        css, label = _status(res)
        name = _e(res.name)
        if not res.passed:
            name = f'<a href="#rule-{i}">{name}</a>'
        share = f"{res.failed_count / res.total:.2%}" if res.total else "-"
        row_class = "" if res.passed else f' class="{css}"'
        rows.append(
            f"<tr{row_class}><td>{name}</td><td>{_e(res.type)}</td>"
            f"<td>{_e(res.severity)}</td><td><span class='badge {css}'>{label}</span></td>"
            f"<td class='num'>{res.failed_count:,} / {res.total:,}</td>"
            f"<td class='num'>{share}</td><td>{_e(res.message)}</td></tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("rule", "type", "severity", "status", "failed / total", "share", "message")
    )
    return (
        f'<section id="rules"><h2>Rules</h2><div class="scroll"><table><thead><tr>{head}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _examples_table(examples: Sequence[Mapping[str, Any]]) -> str:
    columns: dict[str, None] = {}
    for row in examples:
        columns.update(dict.fromkeys(row))
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(row.get(c))}</td>" for c in columns) + "</tr>"
        for row in examples
    )
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _failures(report: ValidationReport) -> str:
    if not report.failed:
        return ""
    parts = ['<section id="failures"><h2>Failed rules</h2>']
    for i, res in enumerate(report.results):
        if res.passed:
            continue
        css, label = _status(res)
        parts.append(
            f'<h3 id="rule-{i}">{_e(res.name)} <span class="badge {css}">{label}</span></h3>'
            f'<p class="muted">{_e(res.type)} · {_e(res.message)}</p>'
        )
        if res.examples:
            shown = f"Showing {len(res.examples):,} of {res.failed_count:,} failing rows"
            parts.append(f"<p>{shown}:</p>{_examples_table(res.examples)}")
        else:
            parts.append('<p class="muted">No example rows (the rule checks the whole table).</p>')
    parts.append("</section>")
    return "".join(parts)


def _column_chart(col: ColumnProfile) -> str:
    if col.histogram is not None and col.histogram.counts:
        edges = [
            e[:19].replace("T", " ") if isinstance(e, str) else f"{e:.4g}"
            for e in col.histogram.edges
        ]
        return histogram(col.histogram.counts, edges, caption=f"histogram of {col.name}")
    if col.top:
        return bar_chart(list(col.top.items()), col.count, caption=f"top values of {col.name}")
    return ""


def _column_card(col: ColumnProfile) -> str:
    facts = [
        ("nulls", f"{col.null_count:,} ({col.null_fraction:.2%})"),
        ("distinct", _num(col.distinct_count)),
    ]
    for label in ("min", "max", "mean", "std"):
        value = getattr(col, label)
        if value is not None:
            facts.append((label, _num(value)))
    rows = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in facts)
    return (
        f'<div class="card"><h3>{_e(col.name)}</h3>'
        f'<p class="muted">{_e(col.type)} · {_e(col.kind)}</p>'
        f"<table>{rows}</table>{_column_chart(col)}</div>"
    )


def _profile(profile: TableProfile | None) -> str:
    if profile is None:
        return ""
    cards = "".join(_column_card(c) for c in profile.columns)
    return (
        f'<section id="profile"><h2>Profile</h2><p class="muted">{profile.num_rows:,} rows &times; '
        f'{profile.num_columns:,} columns</p><div class="cards">{cards}</div></section>'
    )


# -- public ----------------------------------------------------------------------------------------


def render_html(
    report: ValidationReport,
    *,
    title: str | None = None,
    dataset: str | None = None,
    profile: TableProfile | None = None,
    generated_at: datetime | None = None,
) -> str:
    """The report as one self-contained HTML page (no scripts, no external URLs).

    It shows a summary (status, rows, duration, counts by severity), a table of every rule, the
    example rows of each failed rule and, when ``profile`` is given, a card per column with an
    inline SVG histogram (numbers, times) or top-values bar chart (strings, categories).

    Raises:
        InvalidArgument: ``report`` is not a ``ValidationReport`` or ``profile`` not a
            ``TableProfile``.

    >>> import pyarrow as pa
    >>> from shipyard.data.validation import NotNull, Suite, validate
    >>> r = validate(pa.table({"x": [1, None]}), Suite("s", (NotNull(name="x_ok", column="x"),)))
    >>> page = render_html(r, title="<demo>")
    >>> "&lt;demo&gt;" in page and "x_ok" in page and "<script" not in page
    True
    """
    if not isinstance(report, ValidationReport):
        raise InvalidArgument(f"render_html takes a ValidationReport, not {type(report).__name__}")
    if profile is not None and not isinstance(profile, TableProfile):
        raise InvalidArgument(
            f"profile must be a TableProfile (from profile_table), not {type(profile).__name__}"
        )
    heading = title or f"Validation report: {report.suite}"
    body = (
        _summary(report, dataset, generated_at)
        + _rules_table(report)
        + _failures(report)
        + _profile(profile)
    )
    return page(heading, body)


def report_dict(
    report: ValidationReport, *, dataset: str | None = None, generated_at: datetime | None = None
) -> dict[str, Any]:
    """``report.to_dict()`` plus ``dataset`` and ``generated_at`` (ISO-8601, UTC by default):
    what ``write_reports`` stores as JSON.

    Raises:
        InvalidArgument: ``report`` is not a ``ValidationReport``.
    """
    if not isinstance(report, ValidationReport):
        raise InvalidArgument(f"report_dict takes a ValidationReport, not {type(report).__name__}")
    moment = generated_at or datetime.now(UTC)
    return {**report.to_dict(), "dataset": dataset, "generated_at": moment.isoformat()}


def _file_stem(text: str) -> str:
    """``text`` made safe as a file name (letters, digits, ``._-``)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "report"
    return stem[:100]


def _targets(target: str | Path, name: str | None, suite: str) -> tuple[Path, Path]:
    raw = str(target)
    path = Path(target)
    if path.is_dir() or raw.endswith(("/", os.sep)):
        stem = path / _file_stem(name or f"{suite}-validation")
    elif name is not None:
        raise InvalidArgument(
            f"{raw!r} is not a directory, so it is the file prefix; pass either a directory "
            "with name=..., or a prefix such as 'reports/churn' without name"
        )
    else:
        stem = path
    return stem.parent / f"{stem.name}.json", stem.parent / f"{stem.name}.html"


def write_reports(
    report: ValidationReport,
    directory_or_prefix: str | Path,
    *,
    name: str | None = None,
    dataset: str | None = None,
    title: str | None = None,
    profile: TableProfile | None = None,
    generated_at: datetime | None = None,
) -> tuple[Path, Path]:
    """Write the report as ``<name>.json`` (see ``report_dict``) and ``<name>.html``.

    ``directory_or_prefix`` is an existing directory (or ends with ``/``; then the files are
    ``<dir>/<name>.*``, ``name`` defaulting to ``<suite>-validation``), or else a path prefix
    (``reports/churn`` writes ``reports/churn.json`` and ``reports/churn.html``). Missing
    parent directories are created; each file is written to a temporary name and renamed.

    Returns:
        The paths of the JSON and the HTML file.

    Raises:
        InvalidArgument: ``report`` is not a ``ValidationReport``, or ``name`` is given with a
            prefix rather than a directory.
    """
    moment = generated_at or datetime.now(UTC)
    data = report_dict(report, dataset=dataset, generated_at=moment)
    page = render_html(report, title=title, dataset=dataset, profile=profile, generated_at=moment)
    json_path, html_path = _targets(directory_or_prefix, name, report.suite)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(json_path, json.dumps(data, indent=2, default=str) + "\n")
    _write_atomic(html_path, page)
    return json_path, html_path
