"""Service health from a model server's Prometheus ``/metrics``: requests and errors since the
previous check.

The prediction log holds the predictions a server answered; the requests it refused (4xx) or
failed (5xx) are counted in its ``shipyard_serving_requests_total`` counter. A monitor with
``server: http://host:8000`` reads that counter at each check, keeps the values in the check's
details, and reports the change since the previous check (the whole count after a restart,
when a counter went down):

==============================  ===============================================================
``server_up``                   1 when ``/metrics`` answered, else 0 (the other figures absent)
``server_requests``             predict requests for the model since the previous check
``server_error_rate``           share of them answered 5xx
``server_client_error_rate``    share of them answered 4xx (bad input)
==============================  ===============================================================

>>> parse_counters('shipyard_serving_requests_total{model="m",version="1",endpoint="predict",'
...                'role="primary",status="422"} 3.0', "m")
{'requests': 3.0, 'client_errors': 3.0, 'server_errors': 0.0}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SERVER_METRICS = ("server_up", "server_requests", "server_error_rate", "server_client_error_rate")
COUNTER = "shipyard_serving_requests"
TIMEOUT_S = 5.0


def parse_counters(text: str, model: str) -> dict[str, float]:
    """Total, 4xx and 5xx predict requests of ``model`` in Prometheus text ``text``."""
    from prometheus_client.parser import text_string_to_metric_families

    out = {"requests": 0.0, "client_errors": 0.0, "server_errors": 0.0}
    for family in text_string_to_metric_families(text):
        if family.name not in (COUNTER, f"{COUNTER}_total"):  # typed, or untyped text
            continue
        for sample in family.samples:
            if not sample.name.endswith("_total") or sample.labels.get("model") != model:
                continue
            status = str(sample.labels.get("status", ""))
            out["requests"] += sample.value
            if status.startswith("4"):
                out["client_errors"] += sample.value
            elif status.startswith("5"):
                out["server_errors"] += sample.value
    return out


def server_health(
    url: str, model: str, previous: Mapping[str, Any] | None
) -> tuple[dict[str, float | None], dict[str, Any]]:
    """(metrics, details) of the model server at ``url`` since the ``previous`` counters
    (the details of the previous check). Never raises: an unreachable server is
    ``server_up = 0`` with the error in the details."""
    import httpx

    try:
        response = httpx.get(url.rstrip("/") + "/metrics", timeout=TIMEOUT_S)
        response.raise_for_status()
        counters = parse_counters(response.text, model)
    except (httpx.HTTPError, ValueError) as exc:
        metrics: dict[str, float | None] = dict.fromkeys(SERVER_METRICS)
        metrics["server_up"] = 0.0
        return metrics, {"url": url, "error": f"{type(exc).__name__}: {exc}"}
    delta = dict(counters)
    if previous and all(counters[k] >= float(previous.get(k, 0.0)) for k in counters):
        delta = {k: counters[k] - float(previous.get(k, 0.0)) for k in counters}
    n = delta["requests"]
    return (
        {
            "server_up": 1.0,
            "server_requests": n,
            "server_error_rate": delta["server_errors"] / n if n else None,
            "server_client_error_rate": delta["client_errors"] / n if n else None,
        },
        {"url": url, "counters": counters, "since_previous": delta},
    )
