"""Hot promotion: when an alias moves, running servers switch versions without a failed request."""

from __future__ import annotations

import threading
import time

import httpx
import numpy as np
import pandas as pd
import pytest

import shipyard
from shipyard.serving.models import (
    Job,
    ModelError,
    ModelPool,
    ModelRunner,
    PoolOptions,
    as_proba,
    as_rows,
)
from shipyard.serving.requests import InputValidator, SchemaMismatch, parse_json

from .conftest import eventually, metric, register_python, running
from .pymodels import BrokenOnLoad, Constant, Exploding

EXAMPLE = pd.DataFrame({"x": [1.0, 2.0]})


class Hammer(threading.Thread):
    """Calls predict in a loop until stopped, recording (status, version, prediction)."""

    def __init__(self, client: httpx.Client) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.seen: list[tuple[int, int | None, float | None]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set() and len(self.seen) < 20_000:
            response = self.client.post("/v1/models/const/predict", json=[{"x": 1.0}])
            if response.status_code != 200:
                self.seen.append((response.status_code, None, None))
                continue
            body = response.json()
            self.seen.append((200, body["version"], body["predictions"][0]))

    def versions(self) -> list[int | None]:
        return [version for _, version, _ in self.seen]


def test_alias_move_switches_versions_under_load_without_errors() -> None:
    register_python("const", Constant(value=1.0), EXAMPLE)
    register_python("const", Constant(value=2.0), EXAMPLE, alias="candidate")
    with running(["const@champion"], reload_interval_s=0.05) as client:
        hammer = Hammer(client)
        hammer.start()
        assert eventually(lambda: len(hammer.seen) >= 50)
        shipyard.set_alias("const", "champion", 2)
        assert eventually(lambda: 2 in hammer.versions()), "the server never switched to v2"
        settled = len(hammer.seen)
        assert eventually(lambda: len(hammer.seen) >= settled + 50)
        hammer.stop.set()
        hammer.join(30)
        listed = client.get("/v1/models").json()["models"][0]
        text = client.get("/metrics").text
    statuses = {status for status, _, _ in hammer.seen}
    assert statuses == {200}, f"failed requests during the switch: {statuses}"
    versions = hammer.versions()
    first_two = versions.index(2)
    assert set(versions[:first_two]) == {1} and set(versions[first_two:]) == {2}
    assert all(pred == float(version) for _, version, pred in hammer.seen)  # type: ignore[arg-type]
    assert listed["version"] == 2 and listed["status"] == "ready" and listed["error"] is None
    assert metric(text, "shipyard_serving_model_info", ref="const@champion", version="2") == 1
    assert metric(text, "shipyard_serving_model_info", ref="const@champion", version="1") == 0
    assert metric(text, "shipyard_serving_reloads_total", ref="const@champion", outcome="ok") == 2


def test_a_version_that_cannot_load_is_never_swapped_in() -> None:
    register_python("const", Constant(value=1.0), EXAMPLE)
    register_python("const", BrokenOnLoad(), EXAMPLE, alias="broken")
    register_python("const", Constant(value=3.0), EXAMPLE, alias="fixed")
    with running(["const@champion"], reload_interval_s=0.05) as client:
        shipyard.set_alias("const", "champion", 2)

        def failed() -> bool:
            entry = client.get("/v1/models").json()["models"][0]
            return bool(entry["error"]) and "version 2" in entry["error"]

        assert eventually(failed)
        still = client.post("/v1/models/const/predict", json=[{"x": 1.0}]).json()
        assert client.get("/health/ready").status_code == 200  # v1 still serves
        shipyard.set_alias("const", "champion", 3)
        assert eventually(
            lambda: (
                client.post("/v1/models/const/predict", json=[{"x": 1.0}]).json()["version"] == 3
            )
        )
        text = client.get("/metrics").text
        entry = client.get("/v1/models").json()["models"][0]
    assert (still["version"], still["predictions"]) == (1, [1.0])
    assert (
        metric(text, "shipyard_serving_reloads_total", ref="const@champion", outcome="failed") == 1
    )
    assert entry["error"] is None


def test_pinned_versions_are_not_polled() -> None:
    register_python("const", Constant(value=1.0), EXAMPLE)
    checked: list[str] = []

    def resolver(ref: str) -> int:
        checked.append(ref)
        return 99

    pool = ModelPool(["const/1"], options=PoolOptions(resolver=resolver))
    slot = pool.slots["const/1"]
    assert pool.refresh(slot) is True and pool.ready
    assert pool.refresh(slot) is False and checked == []
    assert pool.get("const/1").version == 1


def test_the_runner_isolates_a_failing_request_in_a_batch() -> None:
    register_python("boom", Exploding(), EXAMPLE)
    loaded = shipyard.load_model("boom/1")
    runner = ModelRunner("boom", 1, loaded, keep_inputs=True)
    check = InputValidator(loaded.signature)
    jobs = [Job(check.validate(parse_json([{"x": x}]))) for x in (1.0, -1.0, 3.0)]
    good, bad, also_good = runner(jobs)
    assert not isinstance(good, BaseException) and good.predictions == [2.0]
    assert not isinstance(also_good, BaseException) and also_good.predictions == [6.0]
    assert also_good.inputs is not None and also_good.inputs.to_pylist() == [{"x": 3.0}]
    assert isinstance(bad, ModelError) and "boom/1" in str(bad)
    assert isinstance(bad.__cause__, ValueError)


def test_registry_conversion_errors_are_422s() -> None:
    register_python("const", Constant(value=1.0), pd.DataFrame({"when": ["2024-05-01"]}))
    loaded = shipyard.load_model("const/1")
    runner = ModelRunner("const", 1, loaded)
    ok = runner(
        [Job(InputValidator(loaded.signature).validate(parse_json([{"when": "2024-06-01"}])))]
    )
    assert not isinstance(ok[0], BaseException)
    # the registry converts what the validator passed; a value it still refuses is a 422
    unchecked = InputValidator(None).validate(parse_json([{"when": 1.5}]))
    (result,) = runner([Job(unchecked)])
    assert isinstance(result, SchemaMismatch) and result.status == 422


def test_outputs_are_normalised_per_row() -> None:
    assert as_rows(np.array([1.0, np.nan]), 2) == [1.0, None]
    assert as_rows(pd.Series(["a", "b"]), 2) == ["a", "b"]
    assert as_rows(pd.DataFrame({"a": [1, 2], "b": [None, "x"]}), 2) == [
        {"a": 1, "b": None},
        {"a": 2, "b": "x"},
    ]
    assert as_rows(np.array([[1, 2], [3, 4]]), 2) == [[1, 2], [3, 4]]
    assert as_rows(np.array(["2024-01-01"], dtype="datetime64[D]"), 1) == ["2024-01-01"]
    with pytest.raises(ModelError, match="3 predictions for 2 input rows"):
        as_rows([1, 2, 3], 2)
    with pytest.raises(ModelError, match="returned a int"):
        as_rows(5, 1)

    class Native:
        classes_ = np.array(["no", "yes"])

    proba, classes = as_proba(np.array([[0.2, 0.8]]), Native(), 1)
    assert classes == ("no", "yes") and proba.tolist() == [[0.2, 0.8]]
    with pytest.raises(ModelError, match="shape"):
        as_proba(np.array([0.2, 0.8]), Native(), 1)


def test_loading_times_are_not_on_the_request_path() -> None:
    """A promotion's load happens beside the serving version: requests keep their latency."""
    from .pymodels import SlowToLoad

    register_python("const", SlowToLoad(delay=0.0), EXAMPLE)
    register_python("const", SlowToLoad(delay=1.0), EXAMPLE, alias="slow")
    with running(["const@champion"], reload_interval_s=0.05) as client:
        shipyard.set_alias("const", "champion", 2)
        worst = 0.0
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            start = time.perf_counter()
            body = client.post("/v1/models/const/predict", json=[{"x": 1.0}]).json()
            worst = max(worst, time.perf_counter() - start)
            if body["version"] == 2:
                break
        assert body["version"] == 2
    assert worst < 0.9, f"a request waited {worst:.2f}s on the 1 s load"
