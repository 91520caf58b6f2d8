"""The tracking service interface: one protocol, two implementations.

``shipyard.tracking.sql.SqlTracking`` talks to the metadata database (SQLite or PostgreSQL);
``shipyard.client.http.HttpTracking`` talks to a team server. The SDK, the CLI and the server
use only this interface, so all three behave the same whichever is behind it, and one
conformance suite (``tests/conformance``) runs against every implementation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from shipyard.tracking.entities import DatasetInput, Experiment, Metric, Run, RunPage, RunStatus


class TrackingService(Protocol):
    # experiments ------------------------------------------------------------------------------
    def create_experiment(self, name: str, *, tags: Mapping[str, str] | None = None) -> Experiment:
        """Create an experiment. Raises AlreadyExists, InvalidArgument."""
        ...

    def get_experiment(self, ref: int | str) -> Experiment:
        """An experiment by id or by name (deleted ones too). Raises NotFound."""
        ...

    def list_experiments(self, *, deleted: bool = False) -> list[Experiment]:
        """Active experiments, or only deleted ones with ``deleted=True``, oldest first."""
        ...

    def rename_experiment(self, experiment_id: int, new_name: str) -> Experiment: ...

    def delete_experiment(self, experiment_id: int) -> None:
        """Soft-delete; its runs disappear from searches until restored."""
        ...

    def restore_experiment(self, experiment_id: int) -> None: ...

    # runs -------------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: int,
        *,
        name: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
        start_time: int | None = None,
    ) -> Run:
        """Start a RUNNING run (a random name if none). Raises NotFound for the experiment."""
        ...

    def get_run(self, run_id: str) -> Run:
        """The run with params, latest metrics, tags and inputs. Raises NotFound."""
        ...

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
        """Store a last batch (as ``log_batch``) and set the final status, in one transaction.

        The SDK sends what its buffer still holds here, so ending a run costs one round trip.
        """
        ...

    def heartbeat(self, run_id: str) -> None:
        """Record that the run's process is alive; a silent RUNNING run is shown KILLED."""
        ...

    def delete_run(self, run_id: str) -> None: ...

    def restore_run(self, run_id: str) -> None: ...

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] = {},
        tags: Mapping[str, str] = {},
    ) -> None:
        """Store metrics, params and tags in one transaction.

        Raises InvalidArgument (bad key, oversized value), Conflict (a param changed value),
        NotFound (unknown run). Nothing is stored when anything is rejected.
        """
        ...

    def log_inputs(self, run_id: str, inputs: Sequence[DatasetInput]) -> None: ...

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of one metric, by step then timestamp."""
        ...

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
        """Runs matching ``filter`` (see docs/tracking.md for the grammar).

        Raises FilterSyntaxError pointing at the offending position.
        """
        ...
