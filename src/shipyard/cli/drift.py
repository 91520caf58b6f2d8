"""``shipyard drift REFERENCE CURRENT``: drift between any two files or dataset versions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from shipyard.cli._common import console, err_console, handle_errors, print_json

if TYPE_CHECKING:
    from shipyard.monitoring.drift import DriftReport


def register(app: typer.Typer) -> None:
    """Add ``drift`` to the ``shipyard`` app."""
    app.command("drift")(drift)


def _thresholds(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        name, sep, value = item.rpartition("=")
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not sep or not name or number < 0:
            raise typer.BadParameter(
                f"--threshold {item!r} must look like COLUMN=NUMBER (a number >= 0), "
                "e.g. --threshold monthly=0.2"
            )
        out[name] = number
    return out


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _render(report: DriftReport) -> None:
    table = Table()
    for col in ("column", "kind", "test", "statistic", "p-value", "effect size", "threshold", ""):
        table.add_column(col, justify="right" if col in ("statistic", "p-value") else "left")
    for c in report.columns:
        status = (
            "[yellow]skipped[/yellow]"
            if c.skipped
            else ("[red bold]DRIFT[/red bold]" if c.drifted else "[green]ok[/green]")
        )
        table.add_row(
            c.column,
            c.kind,
            c.test,
            _fmt(c.statistic),
            _fmt(c.p_value),
            f"{_fmt(c.effect_size)} {c.effect_size_name}",
            _fmt(c.threshold),
            status,
        )
    console.print(table)
    for c in report.columns:
        if c.skipped:
            console.print(f"[yellow]{c.column}[/yellow]: {c.skipped}")
        elif c.new_categories:
            shown = ", ".join(c.new_categories[:10])
            console.print(f"{c.column}: categories new in the current data: {shown}")
    verdict = "[red bold]dataset drift[/red bold]" if report.dataset_drift else "no dataset drift"
    console.print(
        f"{verdict}: {len(report.drifted_columns)} of {len(report.tested)} columns drifted "
        f"({report.share_drifted:.0%}; the dataset drifts at {report.config.drift_share:.0%}) · "
        f"{report.n_ref_rows:,} reference rows, {report.n_cur_rows:,} current rows · "
        f"{report.duration_s * 1000:,.0f} ms"
    )


@handle_errors
def drift(
    reference: str = typer.Argument(
        ..., help="Reference rows: a CSV/Parquet file or URL, or a dataset NAME@VERSION."
    ),
    current: str = typer.Argument(
        ..., help="Current rows: a CSV/Parquet file or URL, or a dataset NAME@VERSION."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    html: Path | None = typer.Option(
        None, "--html", help="Also write a self-contained HTML report to this file."
    ),
    columns: list[str] = typer.Option(
        [], "--columns", "-c", help="Only these columns (repeat or comma-separate)."
    ),
    threshold: list[str] = typer.Option(
        [], "--threshold", "-t", help="COLUMN=NUMBER: that column's effect-size threshold."
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        help="Drift settings YAML (tests, alpha, thresholds, per-column settings; a drift: "
        "section of shipyard.yaml works too).",
    ),
    fail_on_drift: bool = typer.Option(
        False, "--fail-on-drift", help="Exit with status 2 when the dataset drifts (for CI)."
    ),
) -> None:
    """Test every column of CURRENT against REFERENCE for drift.

    Numeric columns: Kolmogorov-Smirnov (effect size: Wasserstein distance in reference
    standard deviations), with Wasserstein and PSI beside it; categorical columns: chi-square
    on the 2 x k table (effect size: Jensen-Shannon distance), with PSI. A column drifts when
    its test is significant and its effect size reaches its threshold.
    """
    from shipyard.monitoring.drift.fluent import compute_drift

    names = [n.strip() for item in columns for n in item.split(",") if n.strip()]
    with err_console.status("computing drift…"):
        report = compute_drift(
            reference,
            current,
            config=config,
            columns=names or None,
            thresholds=_thresholds(threshold),
        )
    if html is not None:
        from shipyard.monitoring.report import write_drift_html

        written = write_drift_html(report, html, reference=reference, current=current)
        err_console.print(f"HTML report written to {written}")
    if as_json:
        from shipyard.monitoring.report import drift_report_dict

        print_json(drift_report_dict(report, reference=reference, current=current))
    else:
        _render(report)
    if fail_on_drift and report.dataset_drift:
        raise typer.Exit(2)
