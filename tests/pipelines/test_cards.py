"""Model cards: generated from the registry, the training run's lineage, gate results and
deployments; Markdown, self-contained HTML, JSON; SDK, CLI and REST."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

import shipyard
from shipyard.cli.main import app
from shipyard.errors import NotFound

runner = CliRunner()


def _train_and_register() -> str:
    """``churn/1`` trained in a run that read ``churn-train`` (recorded lineage), gated and
    deployed; returns the evaluation dataset ref."""
    frame = pd.DataFrame(
        {"tenure": [1, 5, 20, 40, 3, 60, 2, 33], "churned": [1, 1, 0, 0, 1, 0, 1, 0]}
    )
    train = shipyard.ingest_dataset(pa.Table.from_pandas(frame), name="churn-train").version
    evaluation = shipyard.ingest_dataset(pa.Table.from_pandas(frame), name="churn-eval").version
    with shipyard.start_run(experiment="churn", name="train-lr"):
        table = shipyard.load_dataset(train.ref).to_pandas()
        shipyard.log_params({"C": 1.0})
        view = shipyard.DatasetInput("view:tenure_stats", "v3", "features:tenure_stats", "features")
        shipyard.log_input(view)
        shipyard.log_metric("train_accuracy", 1.0)
        model = LogisticRegression(C=1.0).fit(table[["tenure"]], table["churned"])
        shipyard.register_model(
            "churn", model=model, input_example=table[["tenure"]],
            description="Scores customers by their risk of leaving.",
            tags={"intended_use": "Rank accounts for the retention team; not for pricing."},
        )  # fmt: skip
    shipyard.run_gate("churn/1", dataset=evaluation.ref, label="churned",
                      metrics=["accuracy >= 0.8"])  # fmt: skip
    shipyard.deploy("churn/1", target="kubernetes", endpoint="http://churn.svc")
    return evaluation.ref


def test_card_shows_use_data_metrics_gates_and_lineage() -> None:
    eval_ref = _train_and_register()
    card = shipyard.model_card("churn/1")
    assert card.intended_use.startswith("Rank accounts") and card.run is not None
    assert card.run["params"] == {"C": "1.0"} and card.run["experiment"] == "churn"
    assert [d["name"] for d in card.datasets] == ["churn-train"]
    assert [(f["name"], f["digest"]) for f in card.features] == [("view:tenure_stats", "v3")]
    gated = [m for m in card.metrics if m["source"].startswith("gate")]
    assert gated == [{"metric": "accuracy", "value": 1.0, "dataset": eval_ref, "source": "gate #1"}]
    assert card.gates[0]["passed"] and card.deployments[0]["target"] == "kubernetes"
    md = card.to_markdown()
    for heading in ("Intended use", "Inputs", "Training data", "Features", "Metrics", "Gates",
                    "Lineage"):  # fmt: skip
        assert f"## {heading}" in md
    assert "| accuracy | 1 | " + eval_ref + " | gate #1 |" in md
    assert "| tenure | int64 | no |" in md and "| view:tenure_stats | v3 |" in md
    assert "deployed** as churn" in md and "reads** dataset churn-train@" in md


def test_html_is_one_self_contained_page(tmp_path: Path) -> None:
    _train_and_register()
    out = runner.invoke(app, ["models", "card", "churn@latest", "--html", str(tmp_path / "c.html"),
                              "--md", str(tmp_path / "c.md")])  # fmt: skip
    assert out.exit_code == 0, out.output
    page = (tmp_path / "c.html").read_text()
    assert page.startswith("<!doctype html>") and "<table>" in page and "<h2>Gates</h2>" in page
    # Nothing is fetched: no external stylesheet, script, image or font.
    assert not re.search(r"<(link|script|img)\b|url\(|@import", page)
    assert (tmp_path / "c.md").read_text() == shipyard.model_card("churn/1").to_markdown()
    printed = runner.invoke(app, ["models", "card", "churn/1", "--json"])
    assert json.loads(printed.output)["intended_use"].startswith("Rank accounts")


def test_a_bare_version_still_gets_a_card_and_unknown_ones_are_errors() -> None:
    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    shipyard.register_model("bare", model=LogisticRegression().fit(frame, [0, 0, 1, 1]),
                            input_example=frame)  # fmt: skip
    md = shipyard.model_card("bare/1").to_markdown()
    assert "_Not stated._" in md and "Never gated" in md and "not deployed" in md
    with pytest.raises(NotFound):
        shipyard.model_card("bare/2")
    out = runner.invoke(app, ["models", "card", "nope/1"])
    assert out.exit_code == 1 and "nope" in out.output


def test_card_over_rest(tmp_path: Path) -> None:
    import httpx

    from shipyard.client import connect_local
    from shipyard.server.app import create_app
    from shipyard.server.testing import serve_in_thread
    from tests.client.conftest import store_settings

    backing = connect_local(store_settings(tmp_path / "server"))
    with serve_in_thread(create_app(services=backing)) as url:
        shipyard.configure(tracking_uri=url)
        _train_and_register()
        data = httpx.get(f"{url}/api/v1/models/churn/versions/1/card").json()
        assert data["card"]["gates"][0]["passed"] and data["markdown"].startswith("# Model card")
        md = httpx.get(f"{url}/api/v1/models/churn/versions/1/card", params={"format": "md"})
        assert md.text == data["markdown"] and md.headers["content-type"].startswith(
            "text/markdown"
        )
        page = httpx.get(f"{url}/api/v1/models/churn/versions/1/card", params={"format": "html"})
        assert page.text.startswith("<!doctype html>")
        assert httpx.get(f"{url}/api/v1/models/churn/versions/9/card").status_code == 404
        assert httpx.get(f"{url}/api/v1/models/churn/versions/1/card?format=pdf").status_code == 400
        assert shipyard.model_card("churn/1").to_markdown() == data["markdown"]  # SDK over HTTP
    backing.close()
