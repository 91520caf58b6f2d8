"""The churn example, monitoring stage: the champion serves traffic, a price rise shifts the
customers, drift and the accuracy drop are detected, the alert fires, the model is retrained on
fresh data, passes its gate and becomes the new champion — printed as a short story.

The shift (seeded, so the figures repeat): monthly charges rise by 20%, a third of the one- and
two-year contracts turn month-to-month, and after the rise most loyal customers (tenure over
two years) with a bill above 80 leave — something the champion never saw, so its ranking of
who will churn gets worse. Ground truth arrives later through ``shipyard.log_feedback``,
keyed by the prediction ids the model server answered with.

Run after ``churn.py`` (it needs ``churn@champion`` and the ``churn`` dataset), or call
:func:`monitoring_stage` from the demo. ``python examples/churn/monitoring_stage.py``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
TARGET = "churn"
RULES = ["drift_share > 0.1", "roc_auc < 0.8"]
GATE = ["roc_auc >= champion + 0.02"]
SEED = 11


def shift(df: Any, rng: Any) -> Any:
    """The world after the price rise: charges up 20%, a third of long contracts turn
    month-to-month, and 80% of loyal customers (tenure > 24) whose bill passed 80 leave."""
    out = df.copy()
    out["monthly_charges"] = (out["monthly_charges"] * 1.2).round(2)
    out["total_charges"] = (out["total_charges"] * 1.2).round(2)
    long = out["contract"] != "Month-to-month"
    moved = long & (rng.random(len(out)) < 0.35)
    out.loc[moved, "contract"] = "Month-to-month"
    hit = (out["tenure"] > 24) & (out["monthly_charges"] > 80)
    loyal = hit & (rng.random(len(out)) < 0.8)
    out.loc[loyal, TARGET] = "Yes"
    return out


@contextmanager
def alert_receiver() -> Iterator[tuple[str, list[Any]]]:
    """A local webhook (what a pager or chat bridge would be): it keeps the alerts it gets."""
    received: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/alerts", received
    finally:
        server.shutdown()
        server.server_close()


def retrain_pipeline(fresh: Path) -> Any:
    """Ingest the fresh labelled customers, split, train the gbm, register a new version."""
    from shipyard.pipelines.definitions import Pipeline, step_from_dict

    steps = [
        {"name": "ingest", "use": "ingest", "with": {"source": str(fresh), "name": "churn-fresh"}},
        {
            "name": "transform",
            "use": "transform",
            "inputs": {"dataset": "ingest.dataset"},
            "with": {"split": {"test_size": 0.25, "stratify": TARGET, "seed": 42}},
        },
        {
            "name": "train",
            "use": "train",
            "inputs": {"train": "transform.train", "test": "transform.test"},
            "with": {
                "label": TARGET,
                "positive": "Yes",
                "model": "gbm",
                "params": {"learning_rate": 0.05, "max_iter": 200, "max_leaf_nodes": 15},
                "preprocessing": "preprocessing.yaml",
            },
        },
        {
            "name": "register",
            "use": "register",
            "inputs": {"model": "train.model"},
            "with": {"name": "churn", "description": "retrained on customers after the price rise"},
        },
    ]
    return Pipeline(
        "churn-retrain",
        [step_from_dict(s, f"churn-retrain.steps[{i}]") for i, s in enumerate(steps)],
        executor="local:1",
        experiment="churn-retrain",
        base_dir=HERE,
    )


def _serve(http: Any, model: str, frame: Any) -> list[str]:
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    ids: list[str] = []
    for start in range(0, len(records), 100):
        answer = http.post(f"/v1/models/{model}/predict", json=records[start : start + 100])
        answer.raise_for_status()
        ids.extend(answer.json()["prediction_ids"])
    return ids


def monitoring_stage(
    console: Any, home: Path, *, model: str = "churn", rows: int = 1000
) -> dict[str, Any]:
    """Run the story; returns its figures (the demo's test checks them)."""
    import httpx
    import numpy as np

    import shipyard
    from shipyard.monitoring.monitors import Monitor
    from shipyard.server.testing import serve_in_thread
    from shipyard.serving.app import ServeOptions, create_app

    rng = np.random.default_rng(SEED)
    champion = shipyard.get_model_version(f"{model}@champion")
    data = shipyard.load_dataset(TARGET).to_pandas()
    data = data.sample(frac=1.0, random_state=SEED).reset_index(drop=True)
    before, after = data.iloc[:rows], shift(data.iloc[rows : 2 * rows], rng)
    later, fresh = shift(data.iloc[2 * rows : 3 * rows], rng), shift(data.iloc[3 * rows :], rng)
    fresh_path = home / "churn_fresh_labelled.parquet"
    fresh.to_parquet(fresh_path)
    features = [c for c in data.columns if c != TARGET]

    def labels(ids: list[str], frame: Any) -> dict[str, list[Any]]:
        return {"prediction_id": ids, "label": (frame[TARGET] == "Yes").astype(int).tolist()}

    with alert_receiver() as (hook, received):
        monitor = Monitor.from_dict(
            "churn-live",
            {
                "model": f"{model}@champion",
                "window": {"rows": rows},
                "alerts": {
                    "rules": RULES,
                    "channels": [{"type": "webhook", "url": hook, "name": "on-call"}],
                    "cooldown": "1h",
                },
                "retrain": {"pipeline": retrain_pipeline(fresh_path), "gate": {"metrics": GATE}},
            },
        )
        app = create_app(
            [f"{model}@champion"], ServeOptions(prediction_log_root=str(home / "predictions"))
        )
        with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=60) as http:
            _wait_ready(http)
            ids = _serve(http, model, before[features])
            shipyard.log_feedback(model, labels(ids, before))
            calm = shipyard.run_monitor(monitor)
            console.print(
                f"week 1: {model}/{champion.version} served {rows:,} customers; labels came back "
                f"· ROC AUC {calm.metrics['roc_auc']:.3f}, accuracy {calm.metrics['accuracy']:.3f}"
                f", drift share {calm.metrics['drift_share']:.2f}, p99 latency "
                f"{calm.metrics['p99_latency_ms']:.1f} ms → {calm.check.status}"
            )
            console.print(
                "the price rise: monthly charges +20%, a third of long contracts go "
                "month-to-month, loyal customers start to leave"
            )
            ids = _serve(http, model, after[features])
            shipyard.log_feedback(model, labels(ids, after))
            hit = shipyard.run_monitor(monitor)
    m, drift = hit.metrics, hit.check.details["drift"]
    drifted = ", ".join(
        f"{c['column']} ({c['effect_size_name']} {c['effect_size']:.2f})"
        for c in drift["columns"]
        if c["drifted"]
    )
    console.print(
        f"week 2: drift share {m['drift_share']:.2f} — drifted: {drifted} · ROC AUC "
        f"{calm.metrics['roc_auc']:.3f} → [bold red]{m['roc_auc']:.3f}[/bold red], accuracy "
        f"{calm.metrics['accuracy']:.3f} → {m['accuracy']:.3f}"
    )
    for alert in hit.alerts:
        sent = ", ".join(f"{d.channel} {'ok' if d.ok else 'failed'}" for d in alert.deliveries)
        console.print(f"[red]alert[/red] {alert.rule}: {alert.message} → {sent}")
    console.print(f"the on-call webhook received {len(received)} alert(s)")
    rec = hit.retraining
    if rec is not None:
        for step in rec.steps:
            console.print(f"  retrain · {step['step']}: {step['reason']}")
    new = shipyard.get_model_version(f"{model}@champion")
    gated = next((s for s in (rec.steps if rec else ()) if s["step"] == "gated"), None)
    figures = {}
    if gated:
        check = next(c for c in gated["checks"] if c["name"] == GATE[0])
        figures = {"gate": check["message"]}
    console.print(
        f"champion: {model}/{champion.version} → [bold green]{model}/{new.version}[/bold green]"
        + (f" ({figures['gate']})" if figures else "")
        + f" · report: {hit.check.report}"
    )
    recovered = _week3(console, home, model, monitor, later, features, labels)
    console.print(
        "next: [cyan]shipyard monitor history[/cyan] · [cyan]shipyard alerts list[/cyan] · "
        f"[cyan]shipyard monitor retrainings[/cyan] · [cyan]shipyard models history {model}[/cyan]"
    )
    return {
        "before": dict(calm.metrics),
        "after": dict(m),
        "drifted": [c["column"] for c in drift["columns"] if c["drifted"]],
        "alerts": [a.rule for a in hit.alerts],
        "received": len(received),
        "retraining": None if rec is None else rec.outcome,
        "champion": (champion.version, new.version),
        "recovered": recovered,
    }


def _week3(
    console: Any, home: Path, model: str, monitor: Any, frame: Any, features: Any, labels: Any
) -> dict[str, Any]:
    """The new champion serves the next week's customers; the monitor checks it."""
    import httpx

    import shipyard
    from shipyard.server.testing import serve_in_thread
    from shipyard.serving.app import ServeOptions, create_app

    options = ServeOptions(prediction_log_root=str(home / "predictions"))
    app = create_app([f"{model}@champion"], options)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        _wait_ready(http)
        ids = _serve(http, model, frame[features])
    shipyard.log_feedback(model, labels(ids, frame))
    check = shipyard.run_monitor(monitor)
    m = check.metrics
    console.print(
        f"week 3: {model}/{check.check.version} served {len(frame):,} customers · ROC AUC "
        f"[bold green]{m['roc_auc']:.3f}[/bold green], accuracy {m['accuracy']:.3f}, drift "
        f"share {m['drift_share']:.2f} against its own training data → {check.check.status}"
    )
    return dict(m)


def _wait_ready(http: Any) -> None:
    for _ in range(600):
        if http.get("/health/ready").status_code == 200:
            return
        time.sleep(0.05)


def main() -> int:
    from rich.console import Console

    import shipyard

    console = Console()
    console.rule("[bold]stage 4: watch churn@champion — drift, decay, alert, retrain, promote")
    monitoring_stage(console, shipyard.load_settings().home)
    return 0


if __name__ == "__main__":
    sys.exit(main())
