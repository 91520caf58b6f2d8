"""The drift report: a self-contained HTML page (nothing fetched, nothing run) and its JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipyard.errors import InvalidArgument
from shipyard.monitoring.drift import compute_drift
from shipyard.monitoring.report import (
    drift_report_dict,
    drift_sections,
    render_drift_html,
    write_drift_html,
)

EVIL = "<script>alert(1)</script>"


class _Page(HTMLParser):
    """Every tag and attribute of a page, to prove what it does not contain."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.svg_labels: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag == "svg":
            self.svg_labels.append(dict(attrs).get("aria-label") or "")


def _report() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    n = 4_000
    ref = pd.DataFrame(
        {
            "monthly": rng.normal(65, 15, n),
            "tenure": rng.integers(1, 72, n).astype(float),
            "contract": rng.choice(["month", "year", EVIL], n, p=[0.4, 0.3, 0.3]),
        }
    )
    cur = pd.DataFrame(
        {
            "monthly": rng.normal(95, 15, n),
            "tenure": rng.integers(1, 72, n).astype(float),
            "contract": rng.choice(["month", "year", EVIL, "weekly"], n, p=[0.6, 0.1, 0.1, 0.2]),
        }
    )
    return ref, cur


def test_page_is_self_contained_and_plots_each_drifted_column() -> None:
    report = compute_drift(*_report())
    assert set(report.drifted_columns) == {"monthly", "contract"}
    html = render_drift_html(report, title="churn <drift>", reference="a.csv", current="b.csv")
    page = _Page()
    page.feed(html)
    # nothing to fetch or run: no scripts, no external references of any kind
    assert "script" not in page.tags and "iframe" not in page.tags and "img" not in page.tags
    assert "://" not in html and "url(" not in html and "@import" not in html
    for name, value in page.attrs:
        assert not name.startswith("on"), name
        assert name not in ("src", "srcset", "action", "xlink:href"), name
        if name == "href":
            assert value is not None and value.startswith("#"), value
    # data is escaped, never markup
    assert EVIL not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "churn &lt;drift&gt;" in html
    # one chart per column, the drifted ones in the open section
    drifted_section = html.split("<details>")[0]
    assert "distribution of monthly" in drifted_section
    assert "distribution of contract" in drifted_section
    assert "distribution of tenure" not in drifted_section
    assert len(page.svg_labels) == 3
    assert "DATASET DRIFT" in html and "weekly" in html


def test_json_has_the_same_content() -> None:
    report = compute_drift(*_report())
    when = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    data = drift_report_dict(report, reference="a.csv", current="b.csv", generated_at=when)
    assert data["generated_at"] == "2026-11-27T12:00:00+00:00"
    assert data["reference"] == "a.csv" and data["current"] == "b.csv"
    assert {k: v for k, v in data.items() if k not in ("reference", "current", "generated_at")} == (
        report.to_dict()
    )
    json.dumps(data, allow_nan=False)  # strict JSON: no NaN or infinity anywhere
    contract = next(c for c in data["columns"] if c["column"] == "contract")
    assert contract["new_categories"] == ["weekly"]
    assert contract["distribution"]["labels"][0] in ("month", "year", EVIL)


def test_write_html_atomically_and_refuse_a_directory(tmp_path: Path) -> None:
    report = compute_drift(*_report())
    target = write_drift_html(report, tmp_path / "out" / "drift.html")
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in target.parent.iterdir()] == ["drift.html"]  # no temp file left
    with pytest.raises(InvalidArgument, match="is a directory"):
        write_drift_html(report, tmp_path)


def test_sections_embed_in_another_page_and_bad_input_is_refused() -> None:
    report = compute_drift(*_report())
    sections = drift_sections(report)
    assert sections.startswith('<section id="columns">') and "<html" not in sections
    with pytest.raises(InvalidArgument, match="expected a DriftReport"):
        render_drift_html({"columns": []})  # type: ignore[arg-type]


def test_skipped_column_is_shown_without_a_chart() -> None:
    ref = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0]})
    cur = pd.DataFrame({"x": [np.nan, np.nan], "y": [1.0, 2.0]})
    html = render_drift_html(compute_drift(ref, cur))
    assert "skipped" in html and "every value of &#x27;x&#x27; is null" in html
    assert "NO DRIFT" in html
