"""The HTML and JSON validation reports: self-contained, escaped, complete, written atomically."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pytest

from shipyard.data.profile import profile_table
from shipyard.data.validation import (
    AllowedValues,
    ColumnsPresent,
    NotNull,
    Range,
    RowCount,
    Suite,
    Unique,
    ValidationReport,
    render_html,
    report_dict,
    validate,
    write_reports,
)
from shipyard.errors import InvalidArgument

XSS = "<script>alert(1)</script>"
WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
VOID = {"meta", "link", "br", "hr", "img", "input", "col", "area", "base", "source", "wbr"}
URL_ATTRS = {"src", "href", "xlink:href", "action", "srcset", "poster", "data"}


class _Page(HTMLParser):
    """Collects tags, attributes and text, and checks that every element is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for t, attrs in self.tags if t == tag]


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    assert parser.errors == [] and parser.stack == [], (parser.errors, parser.stack)
    return parser


def _table() -> pa.Table:
    return pa.table(
        {
            "id": [1, 2, 2, 4, 5],
            "age": [10, -1, 50, 200, None],
            "plan": ["a", "b", XSS, "a", None],
            XSS: [1.5, 2.5, 3.5, 4.5, 5.5],
        }
    )


def _suite() -> Suite:
    return Suite(
        "people",
        (
            ColumnsPresent(name="cols", columns_required={"id": "int64", XSS: "int64"}),
            RowCount(name="enough", min=3),
            Unique(name="ids", column_list=("id",)),
            NotNull(name="age_known", column="age", severity="warn"),
            Range(name="age_ok", column="age", min=0, max=120),
            AllowedValues(name=XSS, column="plan", values=("a", "b"), severity="warn"),
        ),
    )


@pytest.fixture(scope="module")
def report() -> ValidationReport:
    return validate(_table(), _suite())


@pytest.fixture(scope="module")
def page(report: ValidationReport) -> str:
    return render_html(
        report,
        title=f"Report {XSS}",
        dataset=XSS,
        profile=profile_table(_table()),
        generated_at=WHEN,
    )


def test_the_page_is_self_contained(page: str) -> None:
    parsed = _parse(page)
    for tag, attrs in parsed.tags:
        for name, value in attrs.items():
            if name in URL_ATTRS and value is not None:
                low = value.strip().lower()
                assert not low.startswith(("http", "//")), (tag, name, value)
                assert "://" not in low, (tag, name, value)
    assert parsed.named("script") == []
    assert parsed.named("link") == [] and parsed.named("iframe") == []
    assert parsed.named("img") == []
    assert len(parsed.named("style")) == 1
    assert "@import" not in page and "url(" not in page
    assert "://" not in page  # not even an SVG namespace: inline SVG in HTML5 needs none


def test_every_user_value_is_escaped(page: str) -> None:
    assert XSS not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    text = "".join(_parse(page).text)
    # title (twice), dataset, rule name (twice), a message, example values, column names
    assert text.count(XSS) >= 8
    assert f"'{XSS}' is double, expected int64" in text


def test_every_rule_is_in_the_rules_table_and_failed_ones_have_a_section(
    report: ValidationReport, page: str
) -> None:
    parsed = _parse(page)
    text = "".join(parsed.text)
    failed = {r.name for r in report.failed}
    assert failed == {"cols", "ids", "age_known", "age_ok", XSS}
    for res in report.results:
        assert res.name in text and res.message in text
    anchors = {a["href"] for a in parsed.named("a")}
    headings = {a["id"] for t, a in parsed.tags if t == "h3" and a.get("id")}
    for i, res in enumerate(report.results):
        assert (f"#rule-{i}" in anchors) is (not res.passed)
        assert (f"rule-{i}" in headings) is (not res.passed)
    assert "1 / 5" in text and "20.00%" in text  # ids: one duplicate of 5 rows
    assert "No example rows" in text  # cols is a table-level rule
    assert "200" in text and "-1" in text  # the age_ok example rows


def test_summary_counts_by_severity(page: str) -> None:
    text = " ".join(_parse(page).text)
    assert "FAILED" in text and "people" in text and "2026-03-01T12:00:00+00:00" in text
    rows = [cells for cells in _rows(page) if cells and cells[0] in ("error", "warn")]
    assert rows[:2] == [["error", "4", "1", "3"], ["warn", "2", "0", "2"]]


def _rows(page: str) -> list[list[str]]:
    """The text of each table row's cells."""

    class Rows(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[list[str]] = []
            self.cell: list[str] | None = None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "tr":
                self.rows.append([])
            elif tag in ("td", "th"):
                self.cell = []

        def handle_endtag(self, tag: str) -> None:
            if tag in ("td", "th") and self.cell is not None:
                self.rows[-1].append("".join(self.cell).strip())
                self.cell = None

        def handle_data(self, data: str) -> None:
            if self.cell is not None:
                self.cell.append(data)

    parser = Rows()
    parser.feed(page)
    return parser.rows


def test_status_says_passed_or_passed_with_warnings() -> None:
    table = pa.table({"x": [1, None]})
    clean = validate(table, Suite("s", (Range(name="r", column="x", min=0),)))
    assert "PASSED</span>" in render_html(clean)
    warned = validate(table, Suite("s", (NotNull(name="n", column="x", severity="warn"),)))
    page = render_html(warned)
    assert "PASSED with warnings" in page and "FAILED" not in page
    assert "<title>Validation report: s</title>" in page
    assert 'id="profile"' not in page and 'id="failures"' in page


def test_profile_charts_are_inline_svg(page: str) -> None:
    parsed = _parse(page)
    svgs = parsed.named("svg")
    labels = [s["aria-label"] for s in svgs]
    # id, age and the XSS column are numeric (histograms); plan has top values (bars)
    assert labels == [
        "histogram of id",
        "histogram of age",
        "top values of plan",
        f"histogram of {XSS}",
    ]
    assert len(parsed.named("rect")) > 4
    text = "".join(parsed.text)
    assert "[1, 1.2): 1" in text  # a histogram bin tooltip
    assert "a" in text and "2 (50.0%)" in text  # plan: "a" twice among 4 values


def test_temporal_histogram_labels_are_short() -> None:
    stamps = pa.array([WHEN, WHEN.replace(day=2)], pa.timestamp("us", tz="UTC"))
    table = pa.table({"ts": stamps})
    report = validate(table, Suite("s", (NotNull(name="n", column="ts"),)))
    page = render_html(report, profile=profile_table(table))
    assert "2026-03-02 12:00:00" in page and "histogram of ts" in page


def test_long_and_odd_example_values_are_cut_and_marked() -> None:
    table = pa.table({"s": ["x" * 500, "ok"], "n": [None, 1], "f": [float("nan"), 1.0]})
    suite = Suite("s", (AllowedValues(name="v", column="s", values=("ok",)),))
    page = render_html(validate(table, suite))
    assert "x" * 199 + "…" in page and "x" * 200 not in page
    assert '<span class="null">null</span>' in page and "nan" in page


def test_render_html_refuses_wrong_inputs(report: ValidationReport) -> None:
    with pytest.raises(InvalidArgument, match="ValidationReport"):
        render_html({"suite": "s"})  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="TableProfile"):
        render_html(report, profile=_table())  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="ValidationReport"):
        report_dict("report")  # type: ignore[arg-type]


# -- files -----------------------------------------------------------------------------------------


def test_write_reports_into_a_directory(report: ValidationReport, tmp_path: Path) -> None:
    profile = profile_table(_table())
    json_path, html_path = write_reports(
        report, tmp_path, dataset="people@3", profile=profile, generated_at=WHEN
    )
    assert (json_path, html_path) == (
        tmp_path / "people-validation.json",
        tmp_path / "people-validation.html",
    )
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data == {**report.to_dict(), "dataset": "people@3", "generated_at": WHEN.isoformat()}
    assert data["passed"] is False and len(data["results"]) == 6
    expected = render_html(report, dataset="people@3", profile=profile, generated_at=WHEN)
    assert html_path.read_text(encoding="utf-8") == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == [html_path.name, json_path.name]


def test_write_reports_with_a_name_or_a_prefix(report: ValidationReport, tmp_path: Path) -> None:
    paths = write_reports(report, tmp_path, name="../../escape me")
    assert [p.name for p in paths] == ["escape_me.json", "escape_me.html"]
    assert all(p.parent == tmp_path for p in paths)
    prefix = tmp_path / "new" / "deep" / "churn-2026"
    json_path, html_path = write_reports(report, prefix)
    assert (json_path, html_path) == (prefix.with_suffix(".json"), prefix.with_suffix(".html"))
    assert json.loads(json_path.read_text(encoding="utf-8"))["dataset"] is None
    generated = json.loads(json_path.read_text(encoding="utf-8"))["generated_at"]
    assert datetime.fromisoformat(generated).tzinfo is not None
    made = write_reports(report, f"{tmp_path / 'fresh'}/")
    assert made[0] == tmp_path / "fresh" / "people-validation.json" and made[1].is_file()


def test_write_reports_refuses_a_name_with_a_prefix(
    report: ValidationReport, tmp_path: Path
) -> None:
    with pytest.raises(InvalidArgument, match="prefix"):
        write_reports(report, tmp_path / "reports" / "churn", name="other")
    assert not (tmp_path / "reports").exists()
    with pytest.raises(InvalidArgument, match="ValidationReport"):
        write_reports(None, tmp_path)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
