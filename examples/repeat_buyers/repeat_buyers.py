"""The repeat-buyer example: a feature store from raw events to online predictions.

On the CDNOW purchase log (69,659 purchases by 23,570 customers, 1997-01 to 1998-06):

1. ingest the purchases as a dataset version and derive each customer's activity after every
   purchase (orders, CDs and spend to date, over the last 90 days, days since the first and
   the previous purchase) with DuckDB window functions: a second dataset, ``cdnow_activity``;
2. apply the feature definitions in ``features.yaml`` (an entity, a view with a one-year TTL, a
   feature service with request-time transforms);
3. build a point-in-time training set: one row per customer and quarter end, labelled by
   whether the customer buys again in the next quarter; each row gets the activity as it was
   on that day, never later (so no future leaks into training);
4. train and register ``repeat_buyer`` with the training set's lineage;
5. materialize the latest activity to the online store and score customers from their online
   features only, as a model server will.

Run with ``python examples/repeat_buyers/repeat_buyers.py`` (``make demo`` runs it after the
churn example); ``--customers N`` keeps the first N customers for a quick check.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
DATA = HERE / "data" / "cdnow_transactions.csv.gz"
DEFINITIONS = HERE / "features.yaml"
QUARTER_ENDS = ["1997-06-30", "1997-09-30", "1997-12-31"]
NEXT_QUARTER = {"1997-06-30": "1997-09-30", "1997-09-30": "1997-12-31", "1997-12-31": "1998-03-31"}

ACTIVITY_SQL = """
WITH daily AS (
    SELECT customer_id, CAST(date AS TIMESTAMP) AS day,
           count(*) AS orders, sum(cds) AS cds, sum(dollar_value) AS spend
    FROM purchases GROUP BY customer_id, day
)
SELECT
    customer_id,
    timezone('UTC', day) AS event_time,
    CAST(sum(orders) OVER w_all AS BIGINT) AS orders_to_date,
    CAST(sum(cds) OVER w_all AS BIGINT) AS cds_to_date,
    round(sum(spend) OVER w_all, 2) AS spend_to_date,
    CAST(sum(orders) OVER w_90 AS BIGINT) AS orders_90d,
    round(sum(spend) OVER w_90, 2) AS spend_90d,
    CAST(date_diff('day', min(day) OVER w_all, day) AS DOUBLE) AS days_since_first,
    CAST(date_diff('day', lag(day) OVER (PARTITION BY customer_id ORDER BY day), day) AS DOUBLE)
        AS days_since_previous
FROM daily
WINDOW w_all AS (PARTITION BY customer_id ORDER BY day ROWS UNBOUNDED PRECEDING),
       w_90 AS (PARTITION BY customer_id ORDER BY day
                RANGE BETWEEN INTERVAL 89 DAYS PRECEDING AND CURRENT ROW)
ORDER BY customer_id, event_time
"""


def activity(purchases: Any) -> Any:
    """Each customer's activity after each day with purchases (an Arrow table)."""
    import duckdb

    with duckdb.connect() as con:
        con.register("purchases", purchases)
        return con.sql(ACTIVITY_SQL).to_arrow_table()


def labelled_entities(purchases: Any) -> Any:
    """Customer x quarter-end rows (customers who bought by then), labelled 1 when they buy
    again in the following quarter."""
    import pandas as pd

    df = purchases.to_pandas()
    df["date"] = pd.to_datetime(df["date"])
    rows = []
    for end in QUARTER_ENDS:
        cutoff, horizon = pd.Timestamp(end), pd.Timestamp(NEXT_QUARTER[end])
        known = df.loc[df["date"] <= cutoff, "customer_id"].unique()
        later = df[(df["date"] > cutoff) & (df["date"] <= horizon)]["customer_id"].unique()
        frame = pd.DataFrame({"customer_id": known})
        frame["event_timestamp"] = pd.Timestamp(end, tz="UTC")
        frame["buys_next_quarter"] = frame["customer_id"].isin(later).astype(int)
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=None, help="keep the first N customers")
    args = parser.parse_args(argv)

    import pyarrow.compute as pc
    from rich.console import Console
    from rich.table import Table
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupShuffleSplit

    import shipyard
    from shipyard.data.sources import FileSource

    console = Console()
    started = time.perf_counter()
    console.rule("[bold]Shipyard repeat-buyer example — events → features → model → online")

    purchases = shipyard.ingest_dataset(FileSource("cdnow", str(DATA)), name="cdnow_purchases")
    table = shipyard.load_dataset(purchases.version.ref)
    if args.customers:
        table = table.filter(pc.less_equal(table.column("customer_id"), args.customers))
    acts = shipyard.ingest_dataset(activity(table), name="cdnow_activity").version
    console.print(
        f"purchases {purchases.version.ref}: {table.num_rows:,} rows → activity {acts.ref}: "
        f"{acts.num_rows:,} customer-days"
    )
    for a in shipyard.apply_features(DEFINITIONS):
        console.print(f"  {a.kind} {a.name}: v{a.version} ({a.status})")

    entities = labelled_entities(table)
    with shipyard.start_run(experiment="repeat_buyers", name="hgb") as run:
        train = shipyard.get_historical_features(
            entities, "repeat_buyer", save_as="repeat_buyer_training"
        ).to_pandas()
        features = [c for c in train.columns if c not in entities.columns]
        X, y = train[features], train["buys_next_quarter"]
        split = GroupShuffleSplit(n_splits=1, test_size=0.25, random_state=0)
        fit_idx, test_idx = next(split.split(X, y, groups=train["customer_id"]))
        model = HistGradientBoostingClassifier(max_iter=100, max_leaf_nodes=15, random_state=0)
        model.fit(X.iloc[fit_idx], y.iloc[fit_idx])
        auc = roc_auc_score(y.iloc[test_idx], model.predict_proba(X.iloc[test_idx])[:, 1])
        shipyard.log_params({"model": "hist_gradient_boosting", "rows": len(train)})
        shipyard.log_metric("test_roc_auc", float(auc))
        shipyard.log_model(model, "model", input_example=X.iloc[fit_idx])
    mv = shipyard.register_model("repeat_buyer", run_id=run.run_id, alias="champion")
    console.print(
        f"training set: {len(train):,} customer-quarters ({y.mean():.1%} buy again), "
        f"{len(features)} features · test AUC {auc:.3f} · registered {mv.name}/{mv.version}"
    )

    for r in shipyard.materialize_features(["customer_activity"]):
        console.print(f"materialized {r.view}: {r.rows:,} customers → {r.state.online_store}")
    some = [{"customer_id": c} for c in (1, 2, 3, 4, 5, 999_999)]
    # the log ends in June 1998: replay "now" as 1998-07-01 so TTLs are judged as they were then
    replay = datetime(1998, 7, 1, tzinfo=UTC)
    online = shipyard.get_online_features(some, "repeat_buyer", now=replay).to_pandas()
    champion = shipyard.load_model("models:/repeat_buyer@champion")
    live = online["customer_activity__status"] == "present"
    online.loc[live, "p_buy"] = champion.predict_proba(online.loc[live, features])[:, 1]
    shown = Table(title="online features → repeat_buyer@champion")
    for col in ("customer_id", "status", "orders_to_date", "spend_90d", "avg_order_value", "p_buy"):
        shown.add_column(col)
    for _, row in online.iterrows():
        shown.add_row(
            str(row["customer_id"]),
            str(row["customer_activity__status"]),
            ""
            if row["orders_to_date"] != row["orders_to_date"]
            else str(int(row["orders_to_date"])),
            f"{row['spend_90d']:.2f}",
            f"{row['avg_order_value']:.2f}",
            "" if row.get("p_buy") != row.get("p_buy") else f"{row['p_buy']:.2f}",
        )
    console.print(shown)
    console.print(
        "the activity view's TTL is one year: on 1998-07-01 customers silent since mid-1997 "
        f"are 'expired' online, their values withheld · {time.perf_counter() - started:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
