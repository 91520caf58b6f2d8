"""The fraud-detection example: a real-time scoring API behind a feature store.

No real fraud data ships offline, so ``data.py`` generates a seeded, documented synthetic log of
card transactions (about 0.7% fraud) ending an hour ago. Then, with the public SDK only:

1. ingest the cards and transactions as dataset versions and derive, with DuckDB window
   functions, each card's statistics after every transaction (``card_activity``) and its
   count of transactions per merchant category (``card_category_activity``);
2. apply ``features.yaml``: entities, the two views, a push-only view ``card_spend_10m``
   (TTL 10 minutes) and the feature service ``fraud`` with request-time transforms; replay
   the stream's past output (each card's spend in the ten minutes up to each charge) as a
   push, so training sets see it too;
3. build a point-in-time training set (each transaction gets the features as they were just
   before it), train a class-weighted HistGradientBoosting classifier on the first 80% of
   the time range and report precision, recall and PR-AUC on the last 20% (a time-based
   holdout: the model is judged on the future, as in production); register ``fraud@champion``;
4. materialize the views online and push a fresh burst of spend for one card, as a stream
   job would;
5. serve ``fraud@champion`` with the feature service, so a checkout request carries only
   ``card_id``, ``amount`` and request fields (``merchant_category``, ``country``, ``hour``);
   send a few checkouts and print each fraud probability and the latency measured by the
   client; record the deployment.

Run with ``python examples/fraud/fraud.py`` (200,000 transactions); ``--transactions 5000``
for a quick check (the test suite runs it that way).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).parent
DEFINITIONS = HERE / "features.yaml"
MODEL = "fraud"
HOLDOUT_SHARE = 0.2
FEATURES = [
    "amount",
    "amount_ratio",
    "avg_amount",
    "txn_count_24h",
    "distinct_merchants_30d",
    "spend_10m",
    "category_txn_count",
    "new_category",
    "is_foreign",
    "is_night",
]
UNKNOWN_CARD = 1  # the generator's card ids start at 100001
REQUEST_FIELDS = ["card_id", "amount", "merchant_category", "country", "hour"]

CARD_ACTIVITY_SQL = """
SELECT t.card_id, t.ts,
       avg(t.amount) OVER w30 AS avg_amount,
       count(*) OVER w24 AS txn_count_24h,
       count(DISTINCT t.merchant_id) OVER w30 AS distinct_merchants_30d,
       c.home_country
FROM transactions t JOIN cards c USING (card_id)
WINDOW w30 AS (PARTITION BY t.card_id ORDER BY t.ts
               RANGE BETWEEN INTERVAL 30 DAYS PRECEDING AND CURRENT ROW),
       w24 AS (PARTITION BY t.card_id ORDER BY t.ts
               RANGE BETWEEN INTERVAL 24 HOURS PRECEDING AND CURRENT ROW)
ORDER BY t.card_id, t.ts
"""
CATEGORY_ACTIVITY_SQL = """
SELECT card_id, merchant_category, ts,
       count(*) OVER (PARTITION BY card_id, merchant_category ORDER BY ts
                      ROWS UNBOUNDED PRECEDING) AS category_txn_count
FROM transactions ORDER BY card_id, merchant_category, ts
"""
SPEND_10M_SQL = """
SELECT card_id, ts,
       round(sum(amount) OVER (PARTITION BY card_id ORDER BY ts
                               RANGE BETWEEN INTERVAL 10 MINUTES PRECEDING AND CURRENT ROW), 2)
           AS spend_10m
FROM transactions ORDER BY ts
"""


def load_generator() -> ModuleType:
    """``data.py`` beside this file (imported by path: the example is not a package)."""
    name = "shipyard_fraud_example_data"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / "data.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {HERE / 'data.py'}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def derive(sql: str, **tables: Any) -> Any:
    """Run ``sql`` over the given Arrow tables with DuckDB (times in UTC)."""
    import duckdb

    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        for name, table in tables.items():
            con.register(name, table)
        return con.sql(sql).to_arrow_table()


# --------------------------------------------------------------------------- stages


def data_stage(console: Any, n: int, now: datetime) -> Any:
    """Generate, ingest and derive the feature sources; returns the transactions."""
    import pyarrow.compute as pc

    import shipyard

    synthetic = load_generator().generate(n, seed=0, now=now)
    cards, txns = synthetic.cards, synthetic.transactions
    fraud = pc.sum(txns.column("is_fraud")).as_py()
    c = shipyard.ingest_dataset(cards, name="fraud_cards").version
    t = shipyard.ingest_dataset(txns, name="fraud_transactions").version
    first, last = (pc.min(txns.column("ts")).as_py(), pc.max(txns.column("ts")).as_py())
    console.print(
        f"synthetic log (seed 0): {t.num_rows:,} transactions on {c.num_rows:,} cards, "
        f"{first:%Y-%m-%d} → {last:%Y-%m-%d %H:%M} UTC, {fraud:,} fraudulent "
        f"([bold]{fraud / t.num_rows:.2%}[/bold]) → {t.ref}, {c.ref}"
    )
    activity = shipyard.ingest_dataset(
        derive(CARD_ACTIVITY_SQL, transactions=txns, cards=cards), name="card_activity"
    ).version
    per_category = shipyard.ingest_dataset(
        derive(CATEGORY_ACTIVITY_SQL, transactions=txns), name="card_category_activity"
    ).version
    console.print(f"derived {activity.ref} and {per_category.ref} with DuckDB window functions")
    return txns


def features_stage(console: Any, txns: Any) -> None:
    """Apply the definitions and replay the stream's past 10-minute spend as a push."""
    import shipyard

    applied = shipyard.apply_features(DEFINITIONS)
    console.print(
        "feature definitions: " + ", ".join(f"{a.kind} {a.name} v{a.version}" for a in applied)
    )
    pushed = shipyard.push_features("card_spend_10m", derive(SPEND_10M_SQL, transactions=txns))
    console.print(f"backfilled card_spend_10m: {pushed:,} pushed rows (the stream's history)")


def training_entities(txns: Any) -> Any:
    """One row per transaction: its keys, request fields and label, timed one microsecond
    before it, so the join sees the card as it was just before the charge, not after."""
    import pandas as pd

    frame = txns.select([*REQUEST_FIELDS, "ts", "is_fraud"]).to_pandas()
    frame["event_timestamp"] = frame["ts"] - pd.Timedelta(microseconds=1)
    return frame


def train_stage(console: Any, txns: Any) -> dict[str, float]:
    """Point-in-time training set, time-based holdout, a class-weighted model, registered."""
    import shipyard

    entities = training_entities(txns)
    with shipyard.start_run(experiment="fraud", name="hgb-balanced") as run:
        train = shipyard.get_historical_features(
            entities, "fraud", save_as="fraud_training"
        ).to_pandas()
        cutoff = train["ts"].quantile(1 - HOLDOUT_SHARE)
        fit, holdout = train[train["ts"] < cutoff], train[train["ts"] >= cutoff]
        model, X = fit_model(fit)
        scores = evaluate(model, holdout[FEATURES].astype("float64"), holdout["is_fraud"])
        shipyard.log_params(
            {
                "model": "hist_gradient_boosting",
                "class_weight": "balanced",
                "holdout": f"time >= {cutoff:%Y-%m-%d %H:%M} UTC",
                "train_rows": len(fit),
                "holdout_rows": len(holdout),
            }
        )
        shipyard.log_metrics(scores)
        shipyard.log_model(model, "model", input_example=X)
    mv = shipyard.register_model(MODEL, run_id=run.run_id, alias="champion")
    console.print(
        f"training set: {len(train):,} transactions x {len(FEATURES)} features, point in time "
        f"· fit on {len(fit):,} before {cutoff:%Y-%m-%d %H:%M}, holdout {len(holdout):,} after "
        f"({int(holdout['is_fraud'].sum())} fraudulent)"
    )
    console.print(_scores_line(scores))
    console.print(f"registered [bold]{mv.name}/{mv.version}[/bold] as {MODEL}@champion")
    return scores


def fit_model(fit: Any) -> tuple[Any, Any]:
    """A gradient-boosted classifier that weighs the rare fraud class up; (model, X)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    X = fit[FEATURES].astype("float64")  # nulls stay NaN: the model handles missing values
    model = HistGradientBoostingClassifier(
        class_weight="balanced", max_iter=200, learning_rate=0.1, random_state=0
    )
    return model.fit(X, fit["is_fraud"]), X


def _scores_line(scores: dict[str, float]) -> str:
    return (
        f"holdout: PR-AUC [bold]{scores['pr_auc']:.3f}[/bold] (a random model scores "
        f"{scores['base_rate']:.3f}) · ROC AUC {scores['roc_auc']:.3f} · at p ≥ 0.5 precision "
        f"{scores['precision']:.2f}, recall {scores['recall']:.2f} · at p ≥ 0.9 precision "
        f"{scores['precision_p90']:.2f}, recall {scores['recall_p90']:.2f}"
    )


def evaluate(model: Any, X: Any, y: Any) -> dict[str, float]:
    """Precision and recall at 0.5, PR-AUC and ROC AUC on the holdout, and its fraud rate."""
    from sklearn.metrics import (
        average_precision_score,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    p = model.predict_proba(X)[:, 1]
    both = y.nunique() == 2
    scores = {
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "base_rate": float(y.mean()),
    }
    for suffix, threshold in (("", 0.5), ("_p90", 0.9)):
        flagged = (p >= threshold).astype(int)
        scores[f"precision{suffix}"] = float(precision_score(y, flagged, zero_division=0))
        scores[f"recall{suffix}"] = float(recall_score(y, flagged, zero_division=0))
    return scores


def materialize_stage(console: Any) -> None:
    """Load the latest values of the views with a source into the online store."""
    import shipyard

    for r in shipyard.materialize_features(["card_stats", "card_category_stats"]):
        console.print(f"materialized {r.view}: {r.rows:,} rows → online store")


def push_burst(console: Any, card: int, avg_amount: float, now: datetime) -> None:
    """Push three quick charges' running 10-minute spend for ``card``, as a stream job would."""
    import shipyard

    charges = [round(avg_amount * k, 2) for k in (3.1, 4.4, 6.0)]
    running = [round(sum(charges[: i + 1]), 2) for i in range(len(charges))]
    rows = [
        {"card_id": card, "ts": now - timedelta(minutes=m), "spend_10m": s}
        for m, s in zip((6, 3, 1), running, strict=True)
    ]
    shipyard.push_features("card_spend_10m", rows)
    console.print(
        f"pushed a burst for card {card}: charges {charges} in the last 6 minutes → "
        f"spend_10m = {running[-1]:,.2f} (live for 10 minutes)"
    )


# --------------------------------------------------------------------------- checkouts


def pick_cards(txns: Any) -> tuple[int, int]:
    """Two of the most active cards: one for ordinary checkouts, one for the burst."""
    counts = txns.group_by("card_id").aggregate([("txn_id", "count")]).to_pandas()
    top = counts.sort_values(["txn_id_count", "card_id"], ascending=[False, True])
    return int(top["card_id"].iloc[0]), int(top["card_id"].iloc[1])


def checkouts(txns: Any, normal: int, burst: int, online: Any) -> list[tuple[str, dict[str, Any]]]:
    """The requests to send: (label, body row) — only keys and request fields."""
    data = load_generator()
    frame = txns.select(["card_id", "merchant_category"]).to_pandas()
    usual = frame[frame["card_id"] == normal]["merchant_category"].mode().iloc[0]
    used = set(frame[frame["card_id"] == burst]["merchant_category"])
    new = next((c for c in ("jewelry", "electronics", "gift_cards") if c not in used), "jewelry")
    avg, home = online["avg_amount"], online["home_country"]
    abroad = next(c for c in data.COUNTRIES if c != home[1])
    return [
        ("usual", _row(normal, avg[0], usual, home[0], 14)),
        ("4x usual", _row(normal, 4 * avg[0], usual, home[0], 15)),
        ("burst abroad", _row(burst, 8 * avg[1], new, abroad, 3)),
        ("unknown card", _row(UNKNOWN_CARD, 45.0, "grocery", "US", 12)),
    ]


def _row(card: int, amount: float, category: str, country: str, hour: int) -> dict[str, Any]:
    return {
        "card_id": card,
        "amount": round(float(amount), 2),
        "merchant_category": category,
        "country": country,
        "hour": hour,
    }


def serve_stage(console: Any, requests: list[tuple[str, dict[str, Any]]], home: Path) -> None:
    """Serve the champion behind the feature service, send each checkout alone, time it."""
    import httpx

    import shipyard
    from shipyard.server.testing import serve_in_thread
    from shipyard.serving.app import ServeOptions, create_app

    ref = f"{MODEL}@champion"
    options = ServeOptions(feature_service="fraud", prediction_log_root=str(home / "predictions"))
    answers = []
    with serve_in_thread(create_app([ref], options)) as url, httpx.Client(base_url=url) as http:
        _wait_ready(http)
        for _, body in requests:
            started = time.perf_counter()
            response = http.post(f"/v1/models/{MODEL}/predict", json=[body])
            latency_ms = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            answers.append((response.json()["probabilities"][0]["1"], latency_ms))
        deployment = shipyard.deploy(ref, target="local", endpoint=url, feature_service="fraud")
    vectors = shipyard.get_online_features([body for _, body in requests], "fraud").to_pandas()
    console.print(_checkout_table(requests, vectors, answers))
    console.print(
        f"deployment #{deployment.id}: {ref} (v{deployment.version}) behind feature service "
        f"'{deployment.feature_service}' at {url} · predictions logged under {home / 'predictions'}"
    )


def _wait_ready(http: Any) -> None:
    for _ in range(600):  # the model loads in the background
        if http.get("/health/ready").status_code == 200:
            return
        time.sleep(0.05)
    raise RuntimeError("the model server did not become ready in 30 s")


def _checkout_table(
    requests: list[tuple[str, dict[str, Any]]], vectors: Any, answers: list[tuple[float, float]]
) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(
        title="checkouts → POST /v1/models/fraud/predict (features looked up online)",
        box=box.SIMPLE_HEAD,
    )
    for col in ("checkout", "card", "amount", "category · country · hour"):
        table.add_column(col)
    for col in ("x avg", "10-min spend", "new cat.", "p(fraud)", "latency"):
        table.add_column(col, justify="right")
    for i, (label, body) in enumerate(requests):
        v = vectors.iloc[i]
        p, ms = answers[i]
        style = "red" if p >= 0.5 else "green"
        table.add_row(
            label,
            str(body["card_id"]),
            f"{body['amount']:,.2f}",
            f"{body['merchant_category']} · {body['country']} · {body['hour']:02d}h",
            _num(v["amount_ratio"], "{:.1f}"),
            _num(v["spend_10m"], "{:,.2f}"),
            "yes" if v["new_category"] == 1 else "no",
            f"[{style}]{p:.3f}[/{style}]",
            f"{ms:.1f} ms",
        )
    return table


def _num(value: Any, fmt: str) -> str:
    return "—" if value is None or value != value else fmt.format(value)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--transactions", type=int, default=200_000, help="how many to generate (default 200000)"
    )
    args = parser.parse_args(argv)
    if args.transactions < 100:
        parser.error(f"--transactions must be at least 100, got {args.transactions}")

    from rich.console import Console

    import shipyard

    console = Console(width=None if sys.stdout.isatty() else 120)  # no squeezed table in logs
    started = time.perf_counter()
    now = datetime.now(UTC)
    console.rule("[bold]Shipyard fraud example — transactions → features → model → REST")
    txns = data_stage(console, args.transactions, now)
    features_stage(console, txns)
    train_stage(console, txns)
    materialize_stage(console)
    normal, burst = pick_cards(txns)
    online = shipyard.get_online_features(
        [{"card_id": normal}, {"card_id": burst}],
        ["card_stats:avg_amount", "card_stats:home_country"],
    ).to_pydict()
    push_burst(console, burst, float(online["avg_amount"][1]), datetime.now(UTC))
    requests = checkouts(txns, normal, burst, online)
    serve_stage(console, requests, Path(shipyard.load_settings().home))
    console.print(
        "p(fraud) comes from a class-weighted model: a score to rank and threshold, not a "
        f"calibrated probability · {time.perf_counter() - started:.1f}s · next: "
        "[cyan]shipyard serve fraud@champion --features fraud[/cyan]"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
