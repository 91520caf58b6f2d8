"""The churn example: the whole life of a model, stage by stage, on the embedded default store.

Stage 1 (data): ingest IBM's telco churn table through a file connector as a content-hashed
dataset version, validate it with ``suite.yaml`` (the 11 missing ``total_charges`` are reported
and quarantined; an error-level failure would stop here) and write the HTML/JSON report.

Stage 2 (tracking and registry): train two scikit-learn Pipelines on that exact snapshot (the runs
record its version as lineage) as nested runs with params, metrics and a ROC figure; each
Pipeline starts with the preprocessing declared in ``preprocessing.yaml`` (imputation, a derived
column, outlier clipping, one-hot encoding, scaling), saved inside the model package. Register
the better one as ``churn``, alias it ``champion``, load it back by ``models:/churn@champion``,
score a batch, and check that one customer scored alone gets exactly the batch's answer.

Stage 3 (serving): serve ``churn@champion`` with the model server (micro-batching, signature
validation, prediction log), record the deployment, send it single and concurrent requests and
a bad one (a 422 naming the field), show the batch sizes from ``/metrics``, and score the whole
table with batch prediction (Parquet in, Parquet out, a prediction id per row).

Run with ``make demo`` (or ``python examples/churn/churn.py``); ``--sample N`` trains on N rows
for a quick check (the test suite runs it that way).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
DATA = HERE / "data" / "wa_churn.csv"
SUITE = HERE / "suite.yaml"
PREPROCESSING = HERE / "preprocessing.yaml"
TARGET = "churn"


def data_stage(console: Any, dataset: str, reports: Path) -> Any:
    """Ingest the CSV through a connector, validate the version; None when an error-rule failed."""
    from rich.table import Table

    import shipyard
    from shipyard.data.sources import FileSource
    from shipyard.data.validation import write_reports

    ingested = shipyard.ingest_dataset(FileSource("wa_churn", str(DATA)), name=dataset)
    v = ingested.version
    state = "new version" if ingested.created else "unchanged, already stored as"
    console.print(
        f"ingested {DATA.name} → {state} [bold]{v.ref}[/bold] (#{v.seq}): "
        f"{v.num_rows:,} rows, {len(v.schema)} columns"
    )
    checked = shipyard.check_dataset(v.ref, SUITE)
    report = checked.report
    json_path, html_path = write_reports(
        report,
        reports / f"{v.name}-{v.short}-{report.suite}",
        dataset=v.ref,
        profile=v.table_profile(),
    )
    table = Table(title=f"validation of {v.ref} with suite {report.suite!r}")
    for col in ("rule", "severity", "status", "failed rows", "message"):
        table.add_column(col)
    for r in report.results:
        status = "pass" if r.passed else ("FAIL" if r.severity == "error" else "warn")
        style = {"pass": "green", "warn": "yellow", "FAIL": "red"}[status]
        failed = "" if r.passed else f"{r.failed_count:,}"
        table.add_row(r.name, r.severity, f"[{style}]{status}[/{style}]", failed, r.message)
    console.print(table)
    if checked.quarantine is not None:
        console.print(
            f"{checked.quarantine.num_rows:,} rows that broke a rule quarantined as "
            f"[bold]{checked.quarantine.ref}[/bold]"
        )
    console.print(f"report: {html_path} (and {json_path.name})")
    if not report.passed:
        console.print("[red]an error-level rule failed: training stops here[/red]")
        return None
    return v


def make_pipeline(kind: str, params: dict[str, Any]) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from shipyard.data.preprocess import Preprocessor

    prep = Preprocessor.from_yaml(PREPROCESSING)
    model: Any
    if kind == "logreg":
        model = LogisticRegression(max_iter=1000, **params)
    else:
        model = HistGradientBoostingClassifier(random_state=0, **params)
    return Pipeline([("prep", prep), ("model", model)])


def evaluate(pipeline: Any, X: Any, y: Any) -> dict[str, float]:
    from sklearn import metrics

    proba = pipeline.predict_proba(X)[:, 1]
    pred = (proba >= 0.5).astype(int)
    return {
        "test_roc_auc": float(metrics.roc_auc_score(y, proba)),
        "test_accuracy": float(metrics.accuracy_score(y, pred)),
        "test_f1": float(metrics.f1_score(y, pred)),
        "test_log_loss": float(metrics.log_loss(y, proba)),
    }


def roc_figure(pipeline: Any, X: Any, y: Any, title: str) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import RocCurveDisplay

    fig, ax = plt.subplots(figsize=(4, 4))
    RocCurveDisplay.from_estimator(pipeline, X, y, ax=ax, name=title)
    return fig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=None, help="train on N rows only")
    parser.add_argument("--experiment", default="churn")
    parser.add_argument("--model-name", default="churn")
    parser.add_argument("--dataset", default="churn", help="the dataset's name")
    args = parser.parse_args(argv)

    from rich.console import Console

    import shipyard

    console = Console()
    started = time.perf_counter()
    settings = shipyard.load_settings()
    console.print(f"store: {settings.tracking_uri}\nartifacts: {settings.artifact_uri}")
    console.rule("[bold]Shipyard churn example — stage 1: ingest, validate")
    version = data_stage(console, args.dataset, settings.home / "reports")
    if version is None:
        return 1

    console.rule("[bold]stage 2: train on the snapshot, track, register, load, predict")
    with shipyard.start_run(experiment=args.experiment, name="churn-training") as parent:
        # loading inside the run records churn@<version> as the run's input (lineage)
        df = shipyard.load_dataset(version.ref).to_pandas()
        if args.sample:
            df = df.sample(n=min(args.sample, len(df)), random_state=7).reset_index(drop=True)
            shipyard.log_param("sample_rows", len(df))
        results, X_test = train_candidates(df)
        best_auc, best_kind, best_run, _ = max(results)
        shipyard.set_tags({"best_model": best_kind})
        shipyard.log_metric("best_test_roc_auc", best_auc)
    finish(console, args, parent.run_id, results, best_kind, best_run, X_test, started)
    console.rule("[bold]stage 3: serve churn@champion, call it, predict in batch")
    serve_stage(console, args.model_name, X_test, settings.home)
    return 0


def serve_stage(console: Any, model_name: str, X_test: Any, home: Path) -> None:
    """Serve the champion, send requests (one bad), read /metrics, score a file in batch."""
    import concurrent.futures
    import re

    import httpx

    import shipyard
    from shipyard.server.testing import serve_in_thread
    from shipyard.serving.app import ServeOptions, create_app
    from shipyard.serving.batch import predict_batch

    ref = f"{model_name}@champion"
    app = create_app([ref], ServeOptions(prediction_log_root=str(home / "predictions")))
    records = X_test.head(64).astype(object).where(X_test.head(64).notna(), None)
    rows = records.to_dict(orient="records")
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        for _ in range(300):  # the model loads in the background; ready once it is in
            if http.get("/health/ready").status_code == 200:
                break
            time.sleep(0.05)
        deployment = shipyard.deploy(ref, target="local", endpoint=url)
        one = http.post(f"/v1/models/{model_name}/predict", json=rows[:1]).json()
        console.print(
            f"deployment #{deployment.id}: {url} serves {model_name}/{one['version']} · one "
            f"customer → prediction {one['predictions'][0]}, p(churn) "
            f"{one['probabilities'][0]['1']:.3f}, id {one['prediction_ids'][0]}"
        )
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            answers = list(
                pool.map(lambda r: http.post(f"/v1/models/{model_name}/predict", json=[r]), rows)
            )
        ok = sum(a.status_code == 200 for a in answers)
        bad_row = {**rows[0], "tenure": "forever"}
        bad = http.post(f"/v1/models/{model_name}/predict", json=[bad_row])
        metrics = http.get("/metrics").text
    sizes = re.findall(r"batch_size_(sum|count)\{[^}]*\} ([0-9.e+]+)", metrics)
    total = {k: float(v) for k, v in sizes}
    mean = total.get("sum", 0.0) / total["count"] if total.get("count") else float("nan")
    console.print(
        f"{ok}/{len(rows)} concurrent requests answered, mean batch size {mean:.1f} · a bad "
        f"request gets {bad.status_code}: {bad.json()['error']['message'][:90]}"
    )
    source = home / "churn_to_score.parquet"
    X_test.to_parquet(source)
    result = predict_batch(ref, source, home / "churn_scored.parquet", chunk_rows=500)
    console.print(
        f"batch prediction: {result.rows:,} rows in {result.chunks} chunks, {result.seconds:.2f}s "
        f"→ {result.output} · next: [cyan]shipyard serve {ref}[/cyan] · "
        "[cyan]shipyard predictions show churn[/cyan] · [cyan]shipyard deployments list[/cyan]"
    )


def train_candidates(df: Any) -> tuple[list[tuple[float, str, str, dict[str, float]]], Any]:
    """Train each candidate as a nested run; returns (auc, kind, run id, scores) and X_test."""
    from sklearn.model_selection import train_test_split

    import shipyard

    y = (df.pop(TARGET) == "Yes").astype(int)
    X_train, X_test, y_train, y_test = train_test_split(
        df, y, test_size=0.25, stratify=y, random_state=42
    )
    candidates = {
        "logreg": {"C": 1.0},
        "gbm": {"learning_rate": 0.05, "max_iter": 200, "max_leaf_nodes": 15},
    }
    results = []
    for kind, params in candidates.items():
        with shipyard.start_run(name=kind, nested=True, tags={"model_kind": kind}) as run:
            shipyard.log_params({"model": kind, "n_train": len(X_train), **params})
            pipeline = make_pipeline(kind, params).fit(X_train, y_train)
            scores = evaluate(pipeline, X_test, y_test)
            shipyard.log_metrics(scores)
            shipyard.log_figure(roc_figure(pipeline, X_test, y_test, kind), "roc.png")
            # the signature (types, levels, missing values) comes from all the training rows;
            # the package keeps the first five as its example
            shipyard.log_model(pipeline, "model", input_example=X_train)
            results.append((scores["test_roc_auc"], kind, run.run_id, scores))
    return results, X_test


def finish(
    console: Any,
    args: Any,
    parent_run: str,
    results: list[tuple[float, str, str, dict[str, float]]],
    best_kind: str,
    best_run: str,
    X_test: Any,
    started: float,
) -> None:
    """Register the best candidate, load it back, score a batch and one customer alone."""
    from rich.table import Table

    import shipyard

    mv = shipyard.register_model(
        args.model_name,
        run_id=best_run,
        artifact_path="model",
        description=f"{best_kind} pipeline on the telco churn table",
        alias="champion",
    )
    console.print(f"registered [bold]{mv.name}/{mv.version}[/bold] ({best_kind}) as @champion")

    model = shipyard.load_model(f"models:/{args.model_name}@champion")
    batch = X_test.copy()
    batch["churn_probability"] = model.predict_proba(X_test)[:, 1]
    at_risk = batch.sort_values("churn_probability", ascending=False)
    one = X_test[X_test["total_charges"].isna()].head(1)
    one = one if len(one) else X_test.head(1)
    alone = float(model.predict_proba(one)[:, 1][0])
    same = abs(alone - float(batch.loc[one.index[0], "churn_probability"])) < 1e-12

    table = Table(title="candidates (nested runs)")
    for col in ("model", "run", "test AUC", "accuracy", "F1"):
        table.add_column(col)
    for auc, kind, run_id, scores in sorted(results, reverse=True):
        table.add_row(
            kind + (" ★" if kind == best_kind else ""),
            run_id[:8],
            f"{auc:.3f}",
            f"{scores['test_accuracy']:.3f}",
            f"{scores['test_f1']:.3f}",
        )
    console.print(table)
    top = Table(title=f"batch prediction with models:/{args.model_name}@champion: top 5 at risk")
    for col in ("tenure", "contract", "monthly_charges", "churn_probability"):
        top.add_column(col)
    for _, row in at_risk.head(5).iterrows():
        top.add_row(
            str(row["tenure"]),
            str(row["contract"]),
            f"{row['monthly_charges']:.2f}",
            f"{row['churn_probability']:.2f}",
        )
    console.print(top)
    console.print(
        f"one customer scored alone (tenure {int(one['tenure'].iloc[0])}, total_charges "
        f"{one['total_charges'].iloc[0]}): {alone:.4f} — same as in the batch: {same}"
    )
    console.print(
        f"scored {len(batch):,} customers; {int((batch['churn_probability'] >= 0.5).sum()):,} "
        f"above 0.5 · parent run {parent_run} · {time.perf_counter() - started:.1f}s"
    )
    console.print(
        f"next: [cyan]shipyard data show {args.dataset}[/cyan] · "
        f"[cyan]shipyard runs show {parent_run[:8]}[/cyan] · "
        "[cyan]shipyard runs list -e churn[/cyan] · "
        f"[cyan]shipyard runs compare {results[0][2]} {results[1][2]}[/cyan] · "
        f"[cyan]shipyard models history {args.model_name}[/cyan]"
    )


if __name__ == "__main__":
    sys.exit(main())
