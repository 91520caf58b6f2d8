"""``HttpTracking``: the tracking service over a team server's REST API."""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any

from shipyard.client.http._transport import API, HttpTransport, check_keys, parse, segment
from shipyard.errors import InvalidArgument
from shipyard.server import schemas as sc
from shipyard.tracking.entities import (
    DatasetInput,
    Experiment,
    Metric,
    Run,
    RunPage,
    RunStatus,
    encode_float,
)


class HttpTracking:
    """:class:`~shipyard.tracking.service.TrackingService` over a team server."""

    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def close(self) -> None:
        """Close the connections shared by all three services."""
        self._http.close()

    # experiments
    def create_experiment(self, name: str, *, tags: Mapping[str, str] | None = None) -> Experiment:
        """Create an experiment. Raises AlreadyExists, InvalidArgument."""
        body = {"name": name, "tags": None if tags is None else _text_values(tags, "tag")}
        data = self._http.call("POST", f"{API}/experiments", body=body)
        return parse(sc.ExperimentOut, data).to_entity()

    def get_experiment(self, ref: int | str) -> Experiment:
        """An experiment by id or by name (deleted ones too). Raises NotFound."""
        if isinstance(ref, int) and not isinstance(ref, bool):
            data = self._http.call("GET", f"{API}/experiments/{ref}", idempotent=True)
        else:
            data = self._http.call(
                "GET", f"{API}/experiments/by-name", params={"name": ref}, idempotent=True
            )
        return parse(sc.ExperimentOut, data).to_entity()

    def list_experiments(self, *, deleted: bool = False) -> list[Experiment]:
        """Active experiments, or only deleted ones with ``deleted=True``, oldest first."""
        data = self._http.call(
            "GET", f"{API}/experiments", params={"deleted": deleted}, idempotent=True
        )
        return [e.to_entity() for e in parse(sc.ExperimentList, data).experiments]

    def rename_experiment(self, experiment_id: int, new_name: str) -> Experiment:
        """Rename an experiment. Raises NotFound, AlreadyExists, InvalidArgument."""
        data = self._http.call(
            "PATCH",
            f"{API}/experiments/{segment(experiment_id)}",
            body={"name": new_name},
            idempotent=True,
        )
        return parse(sc.ExperimentOut, data).to_entity()

    def delete_experiment(self, experiment_id: int) -> None:
        """Soft-delete an experiment. Raises NotFound."""
        self._http.call("DELETE", f"{API}/experiments/{segment(experiment_id)}", idempotent=True)

    def restore_experiment(self, experiment_id: int) -> None:
        """Undo ``delete_experiment``. Raises NotFound."""
        self._http.call(
            "POST", f"{API}/experiments/{segment(experiment_id)}/restore", idempotent=True
        )

    # runs
    def create_run(
        self,
        experiment_id: int,
        *,
        name: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
        start_time: int | None = None,
    ) -> Run:
        """Start a RUNNING run. Raises NotFound (experiment, parent), Conflict, InvalidArgument."""
        body = {
            "experiment_id": experiment_id,
            "name": name,
            "tags": None if tags is None else _text_values(tags, "tag"),
            "parent_run_id": parent_run_id,
            "start_time": start_time,
        }
        return parse(sc.RunOut, self._http.call("POST", f"{API}/runs", body=body)).to_entity()

    def get_run(self, run_id: str) -> Run:
        """The run with params, latest metrics, tags and inputs. Raises NotFound."""
        data = self._http.call("GET", _run_path(run_id), idempotent=True)
        return parse(sc.RunOut, data).to_entity()

    def end_run(
        self,
        run_id: str,
        status: RunStatus,
        *,
        end_time: int | None = None,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] = {},
        tags: Mapping[str, str] = {},
    ) -> None:
        """Store a last batch and set the run's final status (one request unless the batch is
        over 10,000 points). Raises NotFound, InvalidArgument, Conflict."""
        head, last = list(metrics[: -sc.MAX_BATCH_METRICS]), metrics[-sc.MAX_BATCH_METRICS :]
        if head:
            self.log_batch(run_id, metrics=head)
        body = {
            "status": str(status),
            "end_time": end_time,
            "metrics": [_metric_wire(m) for m in last],
            "params": _text_values(params, "param"),
            "tags": _text_values(tags, "tag"),
        }
        batch = bool(last or params or tags)
        self._http.call("POST", _run_path(run_id, "end"), body=body, idempotent=not batch)

    def heartbeat(self, run_id: str) -> None:
        """Record that the run's process is alive. Raises NotFound."""
        self._http.call("POST", _run_path(run_id, "heartbeat"), idempotent=True)

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run. Raises NotFound."""
        self._http.call("DELETE", _run_path(run_id), idempotent=True)

    def restore_run(self, run_id: str) -> None:
        """Undo ``delete_run``. Raises NotFound."""
        self._http.call("POST", _run_path(run_id, "restore"), idempotent=True)

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] = {},
        tags: Mapping[str, str] = {},
    ) -> None:
        """Store metrics, params and tags; batches over 10,000 points go as several requests.

        Raises InvalidArgument, Conflict, NotFound (each request is one transaction).
        """
        points = [_metric_wire(m) for m in metrics]
        first: dict[str, Any] = {
            "metrics": points[: sc.MAX_BATCH_METRICS],
            "params": _text_values(params, "param"),
            "tags": _text_values(tags, "tag"),
        }
        path = _run_path(run_id, "log-batch")
        self._http.call("POST", path, body=first)
        for start in range(sc.MAX_BATCH_METRICS, len(points), sc.MAX_BATCH_METRICS):
            chunk = points[start : start + sc.MAX_BATCH_METRICS]
            self._http.call("POST", path, body={"metrics": chunk})

    def log_inputs(self, run_id: str, inputs: Sequence[DatasetInput]) -> None:
        """Record the datasets a run read. Raises NotFound, InvalidArgument."""
        body = {
            "inputs": [
                sc.DatasetInputIO.from_entity(i).model_dump(mode="json", by_alias=True)
                for i in inputs
            ]
        }
        self._http.call("POST", _run_path(run_id, "inputs"), body=body, idempotent=True)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of one metric, by step then timestamp. Raises NotFound."""
        data = self._http.call(
            "GET", _run_path(run_id, "metric-history"), params={"key": key}, idempotent=True
        )
        return [m.to_entity() for m in parse(sc.MetricHistory, data).metrics]

    def search_runs(
        self,
        experiment_ids: Sequence[int],
        *,
        filter: str = "",
        order_by: Sequence[str] = (),
        max_results: int = 1000,
        page_token: str | None = None,
        deleted: bool = False,
    ) -> RunPage:
        """Runs matching ``filter``. Raises FilterSyntaxError pointing at the bad position."""
        body = {
            "experiment_ids": list(experiment_ids),
            "filter": filter,
            "order_by": list(order_by),
            "max_results": max_results,
            "page_token": page_token,
            "deleted": deleted,
        }
        data = self._http.call("POST", f"{API}/runs/search", body=body, idempotent=True)
        return parse(sc.RunPageOut, data).to_entity()


def _run_path(run_id: str, *rest: str) -> str:
    return "/".join((f"{API}/runs", segment(run_id), *rest))


def _text_values(values: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Tag/param values as the service stores them: text, or JSON for dicts and lists."""
    check_keys(values, what)
    return {k: v if isinstance(v, str | dict | list) else str(v) for k, v in values.items()}


def _metric_wire(m: Metric) -> dict[str, Any]:
    """A metric point in its JSON form, refused like the service refuses it."""
    try:
        value = float(m.value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"metric {m.key!r} value {m.value!r} is not a number") from exc
    try:
        step = operator.index(m.step)
    except TypeError as exc:
        raise InvalidArgument(f"metric {m.key!r} step must be an integer, got {m.step!r}") from exc
    return {
        "key": m.key,
        "value": encode_float(value),
        "step": step,
        "timestamp": operator.index(m.timestamp),
    }


# --- registry -----------------------------------------------------------------------------------
