"""The model server over real HTTP: every body form, every endpoint, every error status."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from shipyard.errors import InvalidArgument
from shipyard.registry.entities import ModelVersion
from shipyard.server.testing import serve_in_thread
from shipyard.serving.app import ServeOptions, create_app, plan_models

from .conftest import eventually, metric, register_python, running, wait_ready
from .pymodels import BrokenOnLoad, Exploding, RiskLabeler, SlowToLoad

Cancer = tuple[pd.DataFrame, pd.Series]


def rows(X: pd.DataFrame, n: int = 3) -> list[dict[str, float]]:
    return X.head(n).to_dict(orient="records")


def expected(model: Pipeline, X: pd.DataFrame, n: int = 3) -> list[int]:
    return [int(v) for v in model.predict(X.head(n))]


# --------------------------------------------------------------------------- predicting


@pytest.mark.parametrize(
    "form",
    ["records", "list", "split", "csv"],
)
def test_predict_returns_predictions_probabilities_version_and_ids(
    bc: ModelVersion, cancer: Cancer, cancer_model: Pipeline, form: str
) -> None:
    X, _ = cancer
    head = X.head(3)
    kwargs: dict[str, object] = {
        "records": {"json": {"records": rows(X)}},
        "list": {"json": rows(X)},
        "split": {"json": {"columns": list(X.columns), "data": head.to_numpy().tolist()}},
        "csv": {"content": head.to_csv(index=False), "headers": {"content-type": "text/csv"}},
    }[form]
    with running(["bc@champion"]) as client:
        response = client.post("/v1/models/bc/predict", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model"], body["version"], body["alias"]) == ("bc", 1, "champion")
    assert body["request_id"] == response.headers["x-request-id"]
    assert response.headers["x-model-version"] == "bc/1"
    assert list(body) == [
        "model",
        "version",
        "alias",
        "request_id",
        "predictions",
        "probabilities",
        "prediction_ids",
    ]
    assert body["predictions"] == expected(cancer_model, X)
    proba = cancer_model.predict_proba(head)
    for row, p in zip(body["probabilities"], proba, strict=True):
        assert set(row) == {"0", "1"}
        assert row["1"] == pytest.approx(p[1])
    ids = body["prediction_ids"]
    assert len(ids) == 3 == len(set(ids)) and {len(i) for i in ids} == {28}


def test_a_callers_request_id_is_kept(bc: ModelVersion, cancer: Cancer) -> None:
    X, _ = cancer
    with running(["bc@champion"]) as client:
        ok = client.post(
            "/v1/models/bc/predict", json=rows(X, 1), headers={"X-Request-ID": "abc-1"}
        )
        odd = client.post("/v1/models/bc/predict", json=rows(X, 1), headers={"X-Request-ID": "a b"})
    assert ok.headers["x-request-id"] == "abc-1" and ok.json()["request_id"] == "abc-1"
    assert odd.headers["x-request-id"] != "a b"  # not a sane id: a new one


@pytest.mark.parametrize(
    "form", ["dataframe_split", "dataframe_records", "instances", "inputs", "csv"]
)
def test_invocations_speaks_mlflow(
    bc: ModelVersion, cancer: Cancer, cancer_model: Pipeline, form: str
) -> None:
    X, _ = cancer
    head = X.head(3)
    payloads: dict[str, object] = {
        "dataframe_split": {"json": {"dataframe_split": head.to_dict(orient="split")}},
        "dataframe_records": {"json": {"dataframe_records": rows(X)}},
        "instances": {"json": {"instances": rows(X)}},
        "inputs": {"json": {"inputs": head.to_dict(orient="list")}},
        "csv": {"content": head.to_csv(index=False), "headers": {"Content-Type": "text/csv"}},
    }
    with running(["bc@champion"]) as client:
        response = client.post("/invocations", **payloads[form])  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": expected(cancer_model, X)}


def test_several_models_and_invocations_serves_the_first(
    bc: ModelVersion, plans: ModelVersion, cancer: Cancer
) -> None:
    X, _ = cancer
    plan_row = {"plan": "pro", "seats": 3, "used": 9.0}
    with running(["plans@champion", "bc/1"]) as client:
        first = client.post("/invocations", json={"dataframe_records": [plan_row]})
        other = client.post("/v1/models/bc/predict", json=rows(X, 1))
        listed = client.get("/v1/models").json()["models"]
    assert first.status_code == 200 and first.json()["predictions"] in ([0], [1])
    assert other.json()["version"] == 1 and other.json()["alias"] is None
    assert [(m["name"], m["ref"], m["version"], m["status"]) for m in listed] == [
        ("plans", "plans@champion", 1, "ready"),
        ("bc", "bc/1", 1, "ready"),
    ]
    sig = listed[1]["signature"]["inputs"]["columns"]
    assert sig[0] == {"name": "mean radius", "dtype": "float64", "nullable": False, "levels": None}
    assert listed[0]["alias"] == "champion" and listed[0]["flavor"] == "sklearn"


def test_python_model_with_pre_and_post_processing(tmp_path: Path) -> None:
    example = pd.DataFrame({"plan": [" Pro", "basic"], "seats": [4, 10], "used": [4.0, 1.0]})
    register_python("risk", RiskLabeler(weight=3.0), example)
    with running(["risk@champion"]) as client:
        response = client.post(
            "/v1/models/risk/predict", json={"records": example.to_dict("records")}
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["predictions"] == ["high", "low"]
    assert set(body["probabilities"][0]) == {"high", "low"}
    assert body["probabilities"][0]["high"] == pytest.approx(1 / (1 + np.exp(-(3.0 + 0.5 - 1))))


# --------------------------------------------------------------------------- describing


def test_health_models_metrics_and_docs(bc: ModelVersion, cancer: Cancer) -> None:
    X, _ = cancer
    with running(["bc@champion"]) as client:
        assert client.get("/health/live").json() == {"status": "alive"}
        ready = client.get("/health/ready")
        for _ in range(3):
            client.post("/v1/models/bc/predict", json=rows(X, 2))
        client.post("/v1/models/bc/predict", json=[{"mean radius": "x"}])
        text = client.get("/metrics").text
        doc = client.get("/openapi.json").json()
        docs_page = client.get("/docs")
    assert ready.json() == {"status": "ready", "models": {"bc@champion": "ready"}}
    ok = {"model": "bc", "version": "1", "endpoint": "predict", "role": "primary"}
    assert metric(text, "shipyard_serving_requests_total", **ok, status="200") == 3
    assert metric(text, "shipyard_serving_requests_total", **ok, status="422") == 1
    assert metric(text, "shipyard_serving_rows_total", model="bc", version="1") == 6
    assert metric(text, "shipyard_serving_request_duration_seconds_count", model="bc") >= 4
    assert metric(text, "shipyard_serving_batch_size_sum", model="bc", version="1") == 3
    assert metric(text, "shipyard_serving_errors_total", status="422", code="SCHEMA_MISMATCH") == 1
    assert metric(text, "shipyard_serving_model_info", ref="bc@champion", version="1") == 1
    assert docs_page.status_code == 200 and "swagger" in docs_page.text.lower()
    path = doc["paths"]["/v1/models/bc/predict"]["post"]
    assert {"application/json", "text/csv"} <= set(path["requestBody"]["content"])
    record = doc["components"]["schemas"]["BcRecord"]
    assert record["properties"]["mean radius"]["type"] == "number"
    assert len(record["required"]) == 30
    example = path["requestBody"]["content"]["application/json"]["example"]
    assert set(example["records"][0]) == set(X.columns)
    assert "/invocations" in doc["paths"] and "/v1/models" in doc["paths"]


def test_openapi_shows_category_levels(plans: ModelVersion) -> None:
    with running(["plans@champion"]) as client:
        doc = client.get("/openapi.json").json()
    props = doc["components"]["schemas"]["PlansRecord"]["properties"]
    assert props["plan"]["enum"] == ["basic", "pro", "team"]
    assert props["seats"]["type"] == "integer"


def test_ready_only_once_every_model_is_loaded() -> None:
    example = pd.DataFrame({"x": [1.0, 2.0]})
    register_python("slow", SlowToLoad(delay=1.5), example)
    with running(["slow@champion"], wait=False) as client:
        early = client.get("/health/ready")
        early_predict = client.post("/v1/models/slow/predict", json=[{"x": 1.0}])
        assert early_predict.status_code == 503
        wait_ready(client)
        late_predict = client.post("/v1/models/slow/predict", json=[{"x": 1.0}])
    assert early.status_code == 503
    assert early.json() == {"status": "loading", "models": {"slow@champion": "loading"}}
    error = early_predict.json()["error"]
    assert error["code"] == "MODEL_NOT_READY" and early_predict.headers["retry-after"] == "1"
    assert late_predict.json()["predictions"] == [2.0]


def test_a_model_that_cannot_load_is_reported_not_fatal(bc: ModelVersion, cancer: Cancer) -> None:
    X, _ = cancer
    register_python("broken", BrokenOnLoad(), pd.DataFrame({"x": [1.0]}))
    app = create_app(["bc@champion", "broken@champion"], ServeOptions(log_predictions=False))
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as client:
        assert eventually(
            lambda: client.get("/v1/models").json()["models"][1]["status"] == "failed"
        )
        models = client.get("/v1/models").json()["models"]
        ready = client.get("/health/ready")
        broken = client.post("/v1/models/broken/predict", json=[{"x": 1.0}])
        fine = client.post("/v1/models/bc/predict", json=rows(X, 1))
    assert "the weights file is corrupt" in models[1]["error"]
    assert ready.status_code == 503 and ready.json()["models"]["broken@champion"] == "failed"
    assert broken.status_code == 503 and "corrupt" in broken.json()["error"]["message"]
    assert fine.status_code == 200


# --------------------------------------------------------------------------- errors


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["request_id"] == response.headers["x-request-id"]
    assert isinstance(error["message"], str) and error["message"]
    return dict(error)


def test_client_errors(bc: ModelVersion, cancer: Cancer) -> None:
    X, _ = cancer
    good = rows(X, 1)[0]
    with running(["bc@champion"]) as client:
        unknown = client.post("/v1/models/nope/predict", json=[good])
        malformed = client.post("/v1/models/bc/predict", content=b'{"records": [')
        shapeless = client.post("/v1/models/bc/predict", json={"rows": [good]})
        wrong_type = client.post(
            "/v1/models/bc/predict", content=b"x=1", headers={"Content-Type": "text/plain"}
        )
        bad = {**good, "mean texture": "soft", "worst area": None}
        bad.pop("mean radius")
        mismatch = client.post("/v1/models/bc/predict", json={"records": [good, bad]})
        nan = client.post(
            "/v1/models/bc/predict",
            content=json.dumps([{**good, "mean area": float("nan")}]).encode(),
            headers={"Content-Type": "application/json"},
        )
        no_route = client.get("/v2/nothing")
        still_up = client.post("/v1/models/bc/predict", json=[good])
        text = client.get("/metrics").text
    error = assert_error(unknown, 404, "NOT_FOUND")
    assert "served: bc" in str(error["message"])
    assert "not valid JSON" in str(assert_error(malformed, 400, "INVALID_ARGUMENT")["message"])
    assert "cannot tell the input format" in str(shapeless.json()["error"]["message"])
    assert_error(wrong_type, 415, "UNSUPPORTED_MEDIA_TYPE")
    fields = assert_error(mismatch, 422, "SCHEMA_MISMATCH")["fields"]
    assert [f["field"] for f in fields] == ["mean radius", "mean texture", "worst area"]  # type: ignore[index, union-attr]
    assert "at row 1" in fields[1]["message"]  # type: ignore[index]
    nan_fields = assert_error(nan, 422, "SCHEMA_MISMATCH")["fields"]
    assert nan_fields == [  # type: ignore[comparison-overlap]
        {
            "field": "mean area",
            "message": "column 'mean area' has a missing value (null/NaN) at row 0, and the "
            "model's signature allows no missing values there; send a value",
        }
    ]
    assert_error(no_route, 404, "NOT_FOUND")
    assert still_up.status_code == 200
    for status, code in [
        ("404", "NOT_FOUND"),
        ("400", "INVALID_ARGUMENT"),
        ("415", "UNSUPPORTED_MEDIA_TYPE"),
    ]:
        assert metric(text, "shipyard_serving_errors_total", status=status, code=code) >= 1


def test_unknown_category_is_a_422(plans: ModelVersion) -> None:
    with running(["plans@champion"]) as client:
        ok = client.post("/v1/models/plans/predict", json=[{"plan": "team", "seats": 2, "used": 1}])
        bad = client.post(
            "/v1/models/plans/predict",
            json=[{"plan": "enterprise", "seats": "many", "used": 1}],
        )
    assert ok.status_code == 200, ok.text
    fields = {f["field"]: f["message"] for f in assert_error(bad, 422, "SCHEMA_MISMATCH")["fields"]}  # type: ignore[union-attr]
    assert set(fields) == {"plan", "seats"}
    assert "unknown category 'enterprise'" in fields["plan"]
    assert "'many' at row 0 is not a number" in fields["seats"]


def test_bodies_over_the_limit_get_413_before_parsing(bc: ModelVersion, cancer: Cancer) -> None:
    X, _ = cancer
    limit = 64 * 1024
    with running(["bc@champion"], max_body_bytes=limit) as client:
        declared = client.post(
            "/v1/models/bc/predict",
            content=b"[" + b" " * (limit + 10) + b"]",
        )

        def chunks() -> object:
            for _ in range(20):
                yield b" " * 8192

        streamed = client.post(
            "/v1/models/bc/predict",
            content=chunks(),  # type: ignore[arg-type]
            headers={"Content-Type": "application/json"},
        )
        after = client.post("/v1/models/bc/predict", json=rows(X, 1))
    assert "limit of 65,536 bytes" in str(
        assert_error(declared, 413, "PAYLOAD_TOO_LARGE")["message"]
    )
    assert_error(streamed, 413, "PAYLOAD_TOO_LARGE")
    assert after.status_code == 200


def test_a_50_mb_body_is_refused_by_its_declared_length(bc: ModelVersion) -> None:
    big = b"[" + b"0," * (25 * 1024 * 1024) + b"0]"
    with running(["bc@champion"]) as client:
        try:
            response = client.post("/v1/models/bc/predict", content=big)
        except httpx.WriteError:
            pytest.fail("the server closed the connection instead of answering 413")
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


def test_a_model_that_raises_gets_500_and_the_server_stays_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    register_python("boom", Exploding(), pd.DataFrame({"x": [1.0, 2.0]}))
    with running(["boom@champion"]) as client:
        bad = client.post("/v1/models/boom/predict", json=[{"x": -1.0}])
        good = client.post("/v1/models/boom/predict", json=[{"x": 2.0}])
        text = client.get("/metrics").text
    error = assert_error(bad, 500, "MODEL_ERROR")
    rid = str(error["request_id"])
    assert "negative x breaks this model" in str(error["message"]) and rid in str(error["message"])
    assert good.json()["predictions"] == [4.0]
    assert (
        metric(text, "shipyard_serving_errors_total", model="boom", version="1", status="500") == 1
    )
    assert any(rid in r.getMessage() and r.exc_info for r in caplog.records)


def test_one_bad_request_does_not_fail_its_batch_mates() -> None:
    import asyncio

    register_python("boom", Exploding(), pd.DataFrame({"x": [1.0, 2.0]}))

    async def fire(url: str) -> list[int]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            calls = [
                client.post("/v1/models/boom/predict", json=[{"x": x}]) for x in [-1.0] + [1.0] * 15
            ]
            return [r.status_code for r in await asyncio.gather(*calls)]

    app = create_app(["boom@champion"], ServeOptions(log_predictions=False, max_wait_ms=20))
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as client:
        wait_ready(client)
        statuses = asyncio.run(fire(url))
    assert statuses == [500] + [200] * 15


def test_bad_plans_are_refused_up_front(bc: ModelVersion) -> None:
    with pytest.raises(InvalidArgument, match="named twice"):
        plan_models(["bc@champion", "bc/1"], ServeOptions())
    with pytest.raises(InvalidArgument, match="no served model is named 'fraud'"):
        plan_models(["bc@champion"], ServeOptions(canary=("fraud@challenger=0.1",)))
    with pytest.raises(InvalidArgument, match="at least one model"):
        plan_models([], ServeOptions())
    with pytest.raises(InvalidArgument, match="max_batch_size"):
        create_app(["bc@champion"], ServeOptions(max_batch_size=0))
    with pytest.raises(InvalidArgument, match="sticky-key"):
        create_app(["bc@champion"], ServeOptions(sticky_key="cookie:x"))


def test_predictions_are_logged_with_their_ids(
    bc: ModelVersion, cancer: Cancer, tmp_path: Path
) -> None:
    from shipyard.serving.predictions import read_predictions

    X, _ = cancer
    root = tmp_path / "predictions"
    with running(["bc@champion"], log_predictions=True, prediction_log_root=str(root)) as client:
        one = client.post("/v1/models/bc/predict", json=rows(X, 2)).json()
        two = client.post(
            "/v1/models/bc/predict",
            content=X.head(3).to_csv(index=False),
            headers={"Content-Type": "text/csv"},
        ).json()
    logged = read_predictions(root, "bc").to_pandas()  # the server flushed its log on shutdown
    ids = one["prediction_ids"] + two["prediction_ids"]
    assert sorted(logged["prediction_id"]) == sorted(ids)
    assert set(logged["version"]) == {1} and set(logged["status"]) == {"ok"}
    first = logged.set_index("prediction_id").loc[ids[0]]
    assert first["mean radius"] == pytest.approx(X.iloc[0]["mean radius"])
    assert first["prediction"] == one["predictions"][0]
    assert first["proba_1"] == pytest.approx(one["probabilities"][0]["1"])
    assert (logged["latency_ms"] > 0).all()


def test_options_round_trip_through_json() -> None:
    options = ServeOptions(canary=("a@b=0.5",), shadow=("a@c",), max_wait_ms=3.5, threads=2)
    assert ServeOptions.from_json(options.to_json()) == options


def test_a_package_folder_is_served_without_a_registry(
    bc: ModelVersion, cancer: Cancer, cancer_model: Pipeline, tmp_path: Path
) -> None:
    import shipyard
    from shipyard.serving.models import model_source

    X, _ = cancer
    folder = shipyard.download_model("bc/1", tmp_path / "model")
    with running([str(folder)], name="churn", model_version=3) as client:
        body = client.post("/v1/models/churn/predict", json=rows(X)).json()
        listed = client.get("/v1/models").json()["models"]
    assert (body["model"], body["version"], body["alias"]) == ("churn", 3, None)
    assert body["predictions"] == expected(cancer_model, X)
    assert (listed[0]["ref"], listed[0]["version"], listed[0]["flavor"]) == (
        str(folder),
        3,
        "sklearn",
    )
    assert model_source(str(folder)).name == "model"  # the folder's name by default
    with pytest.raises(InvalidArgument, match="not a model package folder"):
        model_source("bc@champion", name="x")
    with pytest.raises(InvalidArgument, match="exactly one folder"):
        plan_models(["bc@champion"], ServeOptions(model_version=2))
