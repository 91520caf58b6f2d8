"""Fuzz a live model server from its own ``/openapi.json`` with schemathesis.

Every operation the schema lists gets the schema's explicit examples, requests generated to fit
the schema (positive) and, where it takes input, requests generated to break it (negative). The
rule, from the serving issue: no response is a 5xx, except the one the schema documents — ``500
MODEL_ERROR``, the model itself raised. A healthy scikit-learn model does raise on some valid
inputs (a finite float near 1e306 overflows a StandardScaler to infinity, and the estimator
behind it refuses infinity; under pytest's ``filterwarnings = error`` the overflow warning in
the server thread raises too), so that case is told apart by its error code, never by status.

Examples are derandomized (the same requests on every CI run) and never shrunk (every bad
response is collected and reported at once, with a curl command to replay it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from shipyard.registry.entities import ModelVersion

from .conftest import register_python, running
from .pymodels import Exploding

MAX_EXAMPLES = 60
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
MODEL_RAISED = "MODEL_ERROR"


@dataclass
class Report:
    """What the fuzzer saw: status counts per operation, and each 5xx with how to replay it."""

    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    model_raised: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def record(self, label: str, case: Any, response: requests.Response) -> None:
        self.statuses.setdefault(label, Counter())[response.status_code] += 1
        if response.status_code < 500:
            return
        entry = f"{label}: {response.status_code} {response.text[:500]}\n  {case.as_curl_command()}"
        if response.status_code == 500 and _error_code(response) == MODEL_RAISED:
            self.model_raised.append(entry)
        else:
            self.server_errors.append(entry)


def _error_code(response: requests.Response) -> str | None:
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, str) else None


def _takes_input(operation: Any) -> bool:
    """Negative data needs something to break: a body or a parameter."""
    return bool(operation.get_request_payload_content_types()) or any(
        True for _ in operation.iter_parameters()
    )


def fuzz(base_url: str) -> Report:
    """Load the server's OpenAPI and send generated requests for every operation in it."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", timeout=30)
    report = Report()
    with requests.Session() as session:
        for result in schema.get_all_operations():
            if not isinstance(result, Ok):
                pytest.fail(f"schemathesis cannot read an operation of the OpenAPI: {result.err()}")
            _fuzz_operation(result.ok(), base_url, session, report)
    return report


def _fuzz_operation(
    operation: Any, base_url: str, session: requests.Session, report: Report
) -> None:
    """The schema's examples, then positive data, then (if it takes input) negative data."""
    modes = [GenerationMode.POSITIVE]
    if _takes_input(operation):
        modes.append(GenerationMode.NEGATIVE)
    strategies = list(operation.get_strategies_from_examples())
    strategies += [operation.as_strategy(generation_mode=m) for m in modes]
    for strategy in strategies:

        @FUZZ_SETTINGS
        @given(case=strategy)
        def send(case: Any) -> None:
            response = case.call(base_url=base_url, session=session, timeout=30)
            report.record(operation.label, case, response)

        send()


def test_no_5xx_but_the_model_raising_for_any_request_the_schema_allows_or_breaks(
    bc: ModelVersion,
) -> None:
    with running(["bc@champion"]) as client:
        report = fuzz(str(client.base_url).rstrip("/"))
    assert not report.server_errors, "5xx that is not the model raising:\n" + "\n".join(
        report.server_errors
    )
    expected = {
        "GET /v1/models",
        "GET /health/live",
        "GET /health/ready",
        "POST /v1/models/bc/predict",
        "POST /invocations",
    }
    assert set(report.statuses) == expected  # every operation of the schema was fuzzed
    for label in ("GET /v1/models", "GET /health/live", "GET /health/ready"):
        assert set(report.statuses[label]) == {200}, dict(report.statuses[label])
    for label in ("POST /v1/models/bc/predict", "POST /invocations"):
        seen = report.statuses[label]
        reached = seen[200] + seen[500]  # a 500 here is the model raising (checked above)
        assert reached > 0, f"{label}: no request reached the model ({dict(seen)})"
        assert sum(n for s, n in seen.items() if 400 <= s < 500) > 0, dict(seen)


def test_the_fuzzer_reports_a_model_that_raises_as_a_500_model_error() -> None:
    register_python("boom", Exploding(), pd.DataFrame({"x": [1.0, 2.0]}))
    with running(["boom@champion"]) as client:
        report = fuzz(str(client.base_url).rstrip("/"))
    assert not report.server_errors, "\n".join(report.server_errors)
    assert report.model_raised, report.statuses  # negative x reaches the model and breaks it
    odd = [e for e in report.model_raised if "negative x breaks this model" not in e]
    assert not odd, "\n".join(odd)
