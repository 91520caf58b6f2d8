"""Model cards: one generated page per model version — intended use, the data and feature
versions it was trained on, its metrics with their evaluation data, the gates it passed and its
lineage (run, datasets, deployments) — as plain data, Markdown, or self-contained HTML.

>>> from shipyard.pipelines.cards import ModelCard
>>> card = ModelCard(model="churn", version=3, description="Predicts churn.", flavor="sklearn",
...                  user="ana", created_at=0)
>>> card.to_markdown().splitlines()[0]
'# Model card: churn/3'
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class ModelCard:
    """Everything a card shows, as plain data (``to_dict`` is what REST and ``--json`` give)."""

    model: str
    version: int
    description: str
    flavor: str
    user: str
    created_at: int
    intended_use: str = ""
    aliases: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    inputs: Sequence[Mapping[str, Any]] = ()
    run: Mapping[str, Any] | None = None
    datasets: Sequence[Mapping[str, Any]] = ()
    features: Sequence[Mapping[str, Any]] = ()
    metrics: Sequence[Mapping[str, Any]] = ()
    gates: Sequence[Mapping[str, Any]] = ()
    deployments: Sequence[Mapping[str, Any]] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_markdown(self) -> str:
        """The card as Markdown (GitHub-flavoured tables)."""
        out = [f"# Model card: {self.model}/{self.version}", ""]
        facts = [
            f"**Flavor** {self.flavor}",
            f"**registered by** {self.user} on {_when(self.created_at)}",
        ]
        if self.aliases:
            facts.append(f"**aliases** {', '.join(self.aliases)}")
        out += [" · ".join(facts), ""]
        out += ["## Intended use", "", self.intended_use or "_Not stated._", ""]
        if self.description and self.description != self.intended_use:
            out += ["## Description", "", self.description, ""]
        out += _section(
            "Inputs", ("column", "type", "missing allowed"),
            [(i["name"], i["dtype"], "yes" if i.get("nullable") else "no") for i in self.inputs],
            "No signature recorded.",
        )  # fmt: skip
        out += _section(
            "Training data",
            ("dataset", "version", "rows", "context"),
            [(d["name"], d["digest"], d.get("num_rows"), d["context"]) for d in self.datasets],
            "No dataset recorded by the training run.",
        )
        out += _section(
            "Features",
            ("feature data", "version", "source"),
            [(f["name"], f["digest"], f["source"]) for f in self.features],
            "No feature versions recorded.",
        )
        out += _section(
            "Metrics",
            ("metric", "value", "evaluated on", "source"),
            [(m["metric"], _num(m["value"]), m.get("dataset") or "", m["source"])
             for m in self.metrics],
            "No metrics recorded.",
        )  # fmt: skip
        out += _section(
            "Gates",
            ("gate", "result", "against", "evaluated on", "failed checks", "when"),
            [(f"#{g['id']}", "passed" if g["passed"] else "failed", g.get("champion") or "-",
              g.get("dataset") or "", ", ".join(g["failed"]), _when(g["created_at"]))
             for g in self.gates],
            "Never gated (`shipyard gate` records one).",
        )  # fmt: skip
        out += ["## Lineage", ""]
        if self.run:
            run = self.run
            out.append(
                f"- **training run** `{run['run_id']}` ({run.get('name') or 'unnamed'}) in "
                f"experiment {run.get('experiment') or run.get('experiment_id')}, "
                f"status {run.get('status')}"
            )
            if run.get("git_commit"):
                out.append(f"- **code** git commit `{run['git_commit']}`")
            if run.get("params"):
                shown = ", ".join(f"{k}={v}" for k, v in sorted(run["params"].items()))
                out.append(f"- **parameters** {shown}")
        else:
            out.append("- no training run recorded")
        for d in self.datasets:
            out.append(f"- **reads** dataset {d['name']}@{str(d['digest'])[:12]}")
        for dep in self.deployments:
            out.append(
                f"- **deployed** as {dep['name']} (#{dep['id']}, {dep['policy']}, "
                f"{dep['target']}) on {_when(dep['created_at'])}"
            )
        if not self.deployments:
            out.append("- not deployed")
        return "\n".join(out).rstrip() + "\n"

    def to_html(self) -> str:
        """The card as one self-contained HTML page (inline CSS, no external URLs)."""
        from markdown_it import MarkdownIt

        body = MarkdownIt("commonmark", {"html": False}).enable("table").render(self.to_markdown())
        title = html.escape(f"Model card: {self.model}/{self.version}")
        return (
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{title}</title><style>{_CSS}</style></head>"
            f"<body><main>{body}</main></body></html>\n"
        )


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2933;background:#fff}"
    "main{max-width:60rem}h1{font-size:1.6rem}h2{font-size:1.15rem;margin-top:1.6rem;"
    "border-bottom:1px solid #d9e2ec}table{border-collapse:collapse;margin:.5rem 0}"
    "th,td{border:1px solid #d9e2ec;padding:.3rem .6rem;text-align:left}th{background:#f0f4f8}"
    "code{background:#f0f4f8;padding:0 .2rem}"
)


def _section(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], empty: str
) -> list[str]:
    out = [f"## {title}", ""]
    if not rows:
        return [*out, f"_{empty}_", ""]
    out.append("| " + " | ".join(columns) + " |")
    out.append("|" + "---|" * len(columns))
    for row in rows:
        out.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return [*out, ""]


def _cell(value: Any) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def _num(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


__all__ = ["ModelCard"]
