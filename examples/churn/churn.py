"""The churn example: the whole life of a model, stage by stage, on the embedded default store.

Stage 1 (tracking and registry): load IBM's telco churn table, train two scikit-learn Pipelines as
nested runs with params, metrics, a ROC figure and dataset lineage, register the better one as
``churn``, alias it ``champion``, load it back by ``models:/churn@champion`` and score a batch.

Run with ``make demo`` (or ``python examples/churn/churn.py``); ``--sample N`` trains on N rows
for a quick check (the test suite runs it that way).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("data") / "wa_churn.csv"
TARGET = "churn"
NUMERIC = ["tenure", "monthly_charges", "total_charges"]
BINARY = ["female", "senior_citizen", "partner", "dependents", "phone_service", "paperless_billing"]
CATEGORICAL = [
    "multiple_lines",
    "internet_service",
    "online_security",
    "online_backup",
    "device_protection",
    "tech_support",
    "streaming_tv",
    "streaming_movies",
    "contract",
    "payment_method",
]


def load(sample: int | None) -> Any:
    import pandas as pd

    df = pd.read_csv(DATA)
    if sample:
        df = df.sample(n=min(sample, len(df)), random_state=7).reset_index(drop=True)
    return df


def make_pipeline(kind: str, params: dict[str, Any]) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    prep = ColumnTransformer(
        [
            # total_charges is NA for 11 brand-new customers: impute with the median.
            (
                "num",
                Pipeline(
                    [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
                ),
                NUMERIC,
            ),
            ("bin", "passthrough", BINARY),
            ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ]
    )
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
    args = parser.parse_args(argv)

    from rich.console import Console
    from rich.table import Table
    from sklearn.model_selection import train_test_split

    import shipyard

    console = Console()
    started = time.perf_counter()
    settings = shipyard.load_settings()
    console.rule("[bold]Shipyard churn example — stage 1: track, register, load, predict")
    console.print(f"store: {settings.tracking_uri}\nartifacts: {settings.artifact_uri}")

    df = load(args.sample)
    y = (df.pop(TARGET) == "Yes").astype(int)
    X_train, X_test, y_train, y_test = train_test_split(
        df, y, test_size=0.25, stratify=y, random_state=42
    )
    console.print(
        f"data: {len(df):,} customers, {y.mean():.1%} churned, "
        f"{int(df['total_charges'].isna().sum())} missing total_charges"
    )

    candidates = {
        "logreg": {"C": 1.0},
        "gbm": {"learning_rate": 0.05, "max_iter": 200, "max_leaf_nodes": 15},
    }
    results = []
    with shipyard.start_run(experiment=args.experiment, name="churn-training") as parent:
        shipyard.log_input(df.assign(churn=y), name="wa_churn", context="training")
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
        best_auc, best_kind, best_run, _ = max(results)
        shipyard.set_tags({"best_model": best_kind})
        shipyard.log_metric("best_test_roc_auc", best_auc)

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
        f"scored {len(batch):,} customers; {int((batch['churn_probability'] >= 0.5).sum()):,} "
        f"above 0.5 · parent run {parent.run_id} · {time.perf_counter() - started:.1f}s"
    )
    console.print(
        "next: [cyan]shipyard runs list -e churn[/cyan] · "
        f"[cyan]shipyard runs compare {results[0][2]} {results[1][2]}[/cyan] · "
        f"[cyan]shipyard models history {args.model_name}[/cyan]"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
