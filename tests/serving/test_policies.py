"""Traffic policies: canary shares (statistically), sticky assignment, shadows — pure and served."""

from __future__ import annotations

import math
import random
from pathlib import Path

import httpx
import pandas as pd
import pytest

import shipyard
from shipyard.errors import InvalidArgument
from shipyard.server.testing import serve_in_thread
from shipyard.serving.app import ServeOptions, create_app
from shipyard.serving.policies import (
    CHALLENGER,
    PRIMARY,
    Split,
    StickyKey,
    TrafficPolicy,
    bucket,
    mirror,
    parse_split,
    parse_sticky_key,
    route,
)

from .conftest import eventually, metric, register_python, running
from .pymodels import BrokenOnLoad, Constant

N = 20_000
PINNED = [0.754253, 0.366224]  # blake2b-64 of 'fraud\x00user-1', 'fraud\x00user-2'


def within(count: int, n: int, share: float, sigmas: float = 4.0) -> bool:
    """``count`` of ``n`` draws is within ``sigmas`` binomial standard deviations of ``share``."""
    sd = math.sqrt(n * share * (1 - share))
    return abs(count - n * share) <= sigmas * sd


@pytest.mark.parametrize("share", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_the_canary_gets_its_share_of_random_traffic(share: float) -> None:
    policy = TrafficPolicy(canary=Split("fraud@challenger", share), salt="fraud")
    rng = random.Random(42)
    hits = sum(route(policy, rng=rng) == CHALLENGER for _ in range(N))
    assert within(hits, N, share)
    assert route(TrafficPolicy(), rng=rng) == PRIMARY


def test_the_same_seed_gives_the_same_assignments() -> None:
    policy = TrafficPolicy(canary=Split("fraud@challenger", 0.3))
    first = [route(policy, rng=random.Random(7)) for _ in range(5)]
    rng_a, rng_b = random.Random(7), random.Random(7)
    assert [route(policy, rng=rng_a) for _ in range(500)] == [
        route(policy, rng=rng_b) for _ in range(500)
    ]
    assert len(set(first)) == 1


def test_sticky_keys_are_stable_and_still_split_by_share() -> None:
    policy = TrafficPolicy(canary=Split("fraud@challenger", 0.1), salt="fraud")
    keys = [f"user-{i}" for i in range(N)]
    sides = [route(policy, key=k, rng=random.Random(i)) for i, k in enumerate(keys)]
    again = [route(policy, key=k, rng=random.Random(-i)) for i, k in enumerate(keys)]
    assert sides == again  # the RNG plays no part once there is a key
    assert within(sides.count(CHALLENGER), N, 0.1)


def test_buckets_are_uniform_stable_and_salted() -> None:
    values = [bucket(f"k{i}") for i in range(N)]
    assert all(0.0 <= v < 1.0 for v in values)
    for lo in (0.0, 0.25, 0.5, 0.75):
        assert within(sum(lo <= v < lo + 0.25 for v in values), N, 0.25)
    assert bucket("user-1", salt="fraud") == bucket("user-1", salt="fraud")
    salted = [bucket(f"k{i}", salt="churn") < 0.5 for i in range(2000)]
    plain = [bucket(f"k{i}", salt="fraud") < 0.5 for i in range(2000)]
    assert within(sum(a == b for a, b in zip(salted, plain, strict=True)), 2000, 0.5)
    # pinned: assignments must not change between releases or processes
    assert [round(bucket(k, salt="fraud"), 6) for k in ("user-1", "user-2")] == PINNED


def test_shadow_mirrors_its_share() -> None:
    rng = random.Random(3)
    assert all(mirror(TrafficPolicy(shadow=Split("a@b", 1.0)), rng=rng) for _ in range(100))
    assert not any(mirror(TrafficPolicy(shadow=Split("a@b", 0.0)), rng=rng) for _ in range(100))
    assert not mirror(TrafficPolicy(), rng=rng)
    hits = sum(mirror(TrafficPolicy(shadow=Split("a@b", 0.25)), rng=rng) for _ in range(N))
    assert within(hits, N, 0.25)


def test_parsing_options() -> None:
    assert parse_split("fraud@challenger=0.1", option="--canary") == Split("fraud@challenger", 0.1)
    assert parse_split("models:/fraud/3=1", option="--canary") == Split("fraud/3", 1.0)
    assert parse_split("fraud@challenger", option="--shadow", default_share=1.0).share == 1.0
    assert Split("fraud@challenger", 0.1).name == "fraud"
    for text, match in [
        ("fraud@challenger", "needs a share"),
        ("fraud@challenger=1.5", "from 0 to 1"),
        ("fraud@challenger=ten", "from 0 to 1"),
        ("fr aud@x=0.1", "--canary 'fr aud@x'"),
    ]:
        with pytest.raises(InvalidArgument, match=match):
            parse_split(text, option="--canary")
    assert parse_sticky_key("header:X-User-Id") == StickyKey("header", "X-User-Id")
    assert parse_sticky_key("field:customer_id") == StickyKey("field", "customer_id")
    assert parse_sticky_key("X-User-Id") == StickyKey("header", "X-User-Id")
    assert str(parse_sticky_key("field:a")) == "field:a"
    for bad in ("cookie:x", "field:", "header: "):
        with pytest.raises(InvalidArgument, match="header:NAME or field:NAME"):
            parse_sticky_key(bad)


# --------------------------------------------------------------------------- served


EXAMPLE = pd.DataFrame({"x": [1.0, 2.0], "user": ["a", "b"]})


def two_versions() -> None:
    register_python("fraud", Constant(value=1.0), EXAMPLE)
    register_python("fraud", Constant(value=2.0), EXAMPLE, alias="challenger")


def test_a_served_canary_takes_a_share_with_per_version_metrics() -> None:
    two_versions()
    with running(["fraud@champion"], canary=("fraud@challenger=0.5",)) as client:
        versions = [
            client.post("/v1/models/fraud/predict", json=[{"x": 1.0, "user": "a"}]).json()[
                "version"
            ]
            for _ in range(60)
        ]
        text = client.get("/metrics").text
        listed = client.get("/v1/models").json()["models"]
    assert within(versions.count(2), 60, 0.5)
    canary = {"model": "fraud", "version": "2", "role": "canary", "status": "200"}
    primary = {"model": "fraud", "version": "1", "role": "primary", "status": "200"}
    assert metric(text, "shipyard_serving_requests_total", **canary) == versions.count(2)
    assert metric(text, "shipyard_serving_requests_total", **primary) == versions.count(1)
    assert [(m["ref"], m["role"], m["share"], m["version"]) for m in listed] == [
        ("fraud@champion", "primary", None, 1),
        ("fraud@challenger", "canary", 0.5, 2),
    ]


@pytest.mark.parametrize("sticky", ["header:X-User", "field:user"])
def test_sticky_assignment_keeps_a_user_on_one_version(sticky: str) -> None:
    two_versions()
    users = [f"user-{i}" for i in range(40)]
    with running(["fraud@champion"], canary=("fraud@challenger=0.5",), sticky_key=sticky) as client:

        def version(user: str) -> int:
            response = client.post(
                "/v1/models/fraud/predict",
                json=[{"x": 1.0, "user": user}],
                headers={"X-User": user},
            )
            return int(response.json()["version"])

        first = [version(u) for u in users]
        second = [version(u) for u in reversed(users)]
    assert first == second[::-1]
    assert set(first) == {1, 2}
    expected = [2 if bucket(u, salt="fraud") < 0.5 else 1 for u in users]
    assert first == expected


def test_a_shadow_is_measured_and_logged_never_returned(tmp_path: Path) -> None:
    from shipyard.serving.predictions import read_predictions

    two_versions()
    root = tmp_path / "log"
    with running(
        ["fraud@champion"],
        shadow=("fraud@challenger",),
        log_predictions=True,
        prediction_log_root=str(root),
    ) as client:
        bodies = [
            client.post("/v1/models/fraud/predict", json=[{"x": 1.0, "user": "a"}] * 2).json()
            for _ in range(10)
        ]

        def shadowed() -> bool:
            text = client.get("/metrics").text
            return metric(text, "shipyard_serving_shadow_rows_total", agree="false") == 20

        assert eventually(shadowed)
        text = client.get("/metrics").text
    assert {b["version"] for b in bodies} == {1}
    assert {p for b in bodies for p in b["predictions"]} == {1.0}
    shadow = {"model": "fraud", "version": "2", "role": "shadow", "status": "200"}
    assert metric(text, "shipyard_serving_requests_total", endpoint="shadow", **shadow) == 10
    logged = read_predictions(root, "fraud").to_pandas()
    by_status = logged.groupby("status")["version"].agg(set).to_dict()
    assert by_status == {"ok": {1}, "shadow": {2}}
    # the shadow's records carry the primary's prediction ids, so the two can be joined
    pairs = logged.pivot_table(index="prediction_id", columns="status", values="prediction")
    assert len(pairs) == 20 and (pairs["ok"] == 1.0).all() and (pairs["shadow"] == 2.0).all()


def test_a_canary_that_is_not_loaded_yet_falls_back_to_the_primary() -> None:
    register_python("fraud", Constant(value=1.0), EXAMPLE)
    register_python("fraud", BrokenOnLoad(), EXAMPLE, alias="challenger")
    options = ServeOptions(canary=("fraud@challenger=1.0",), log_predictions=False)
    app = create_app(["fraud@champion"], options)
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as client:
        assert eventually(lambda: client.get("/v1/models").json()["models"][0]["status"] == "ready")
        response = client.post("/v1/models/fraud/predict", json=[{"x": 1.0, "user": "a"}])
    assert response.status_code == 200 and response.json()["version"] == 1
    assert shipyard.get_model_version("fraud@challenger").version == 2
