"""Run every benchmark figure, save the results and print a summary table.

    .venv/bin/python benchmarks/run_all.py [--samples 5] [--sides shipyard,mlflow]
                                           [--only log_metric,search_runs] [--quick]

Each figure runs as its own script (``bench_<figure>.py``), whose JSON is collected into
``benchmarks/results/<date>T<time>.json`` (gitignored). Exits 1 if any figure failed, was
incomplete or missed its target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results"
FIGURES = (
    "log_metric",
    "create_runs",
    "search_runs",
    "artifact_memory",
    "concurrent_logging",
    "profile",
    "validation",
    "historical_features",
    "online_lookup",
    "materialize",
    "drift",
)


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the Shipyard vs peer benchmarks.")
    parser.add_argument("--samples", type=int, default=5, help="measured runs per side")
    parser.add_argument("--sides", default="shipyard,mlflow", help="comma-separated sides")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {FIGURES}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke test)")
    parser.add_argument("--output", type=Path, help="where to write the JSON results")
    ns = parser.parse_args(argv)
    ns.figures = [f for f in ns.only.split(",") if f] or list(FIGURES)
    unknown = set(ns.figures) - set(FIGURES)
    if unknown:
        parser.error(f"unknown figure(s) {sorted(unknown)}; choose from {', '.join(FIGURES)}")
    return ns


def run_figure(name: str, ns: argparse.Namespace) -> dict[str, Any]:
    """Run ``bench_<name>.py`` and return its JSON (or an error record)."""
    cmd = [sys.executable, str(BENCH_DIR / f"bench_{name}.py"), "--samples", str(ns.samples),
           "--sides", ns.sides] + (["--quick"] if ns.quick else [])  # fmt: skip
    print(f"== {name}", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    try:
        report: dict[str, Any] = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return {"figure": name, "ok": False, "error": f"exit {proc.returncode}, no JSON output"}
    return report


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


def _peer_median(case: dict[str, Any]) -> str:
    """MLflow's median, or that of the side a case names as its ``peer`` (e.g. feast, floor)."""
    if "mlflow" in case:
        return _fmt(case["mlflow"].get("median"))
    peer = case.get("peer")
    if not peer or peer not in case:
        return "-"
    return f"{peer} {_fmt(case[peer].get('median'))}"


def summary_rows(reports: list[dict[str, Any]]) -> list[list[str]]:
    """One row per figure and case: medians, ratio, target and verdict. The "mlflow" column
    holds MLflow's median, or ``<peer> <median>`` for a figure against another peer."""
    rows = [["figure", "case", "unit", "shipyard", "mlflow", "ratio", "target", "met"]]
    for report in reports:
        if "cases" not in report:
            rows.append([report["figure"], "-", "-", "-", "-", "-", report.get("error", ""), "no"])
            continue
        for case_name, case in report["cases"].items():
            target = case.get("target") or {}
            met = {True: "yes", False: "NO", None: "-"}[target.get("met")]
            if not case.get("complete"):
                met += " (incomplete)"
            rows.append([
                report["figure"], case_name, case["unit"],
                _fmt(case.get("shipyard", {}).get("median")),
                _peer_median(case),
                "-" if case.get("ratio") is None else f"{case['ratio']:.1f}x",
                target.get("text", ""), met,
            ])  # fmt: skip
    return rows


def print_table(rows: list[list[str]]) -> None:
    """Print ``rows`` as an aligned plain-text table."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> int:
    """Run the selected figures; return the process exit code."""
    ns = _args(argv)
    started = dt.datetime.now()
    reports = [run_figure(name, ns) for name in ns.figures]
    RESULTS.mkdir(exist_ok=True)
    out = ns.output or RESULTS / f"{started:%Y-%m-%dT%H%M%S}.json"
    payload = {"started": started.isoformat(timespec="seconds"), "figures": reports}
    out.write_text(json.dumps(payload, indent=2))
    print_table(summary_rows(reports))
    print(f"\nresults: {out}")
    return 0 if all(r.get("ok") for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
