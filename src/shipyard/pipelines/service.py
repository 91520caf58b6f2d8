"""The pipeline-run record interface; ``SqlPipelineRuns`` keeps it in the metadata database,
``HttpPipelineRuns`` (``shipyard.client.http``) on a team server."""

from __future__ import annotations

from typing import Protocol

from shipyard.pipelines.entities import PipelineRun, RunState, StepFailure, StepState


class PipelineRunStore(Protocol):
    def create_run(self, run: PipelineRun) -> None:
        """Record a new run with all its steps, in one transaction. Raises AlreadyExists."""
        ...

    def update_step(self, run_id: str, state: StepState) -> None:
        """Replace what is recorded for one step of a run. Raises NotFound."""
        ...

    def finish_run(
        self, run_id: str, status: RunState, *, failure: StepFailure | None = None
    ) -> PipelineRun:
        """Set a run's final status (and failure report); returns it with its steps."""
        ...

    def find_cached(self, pipeline: str, step: str, cache_key: str) -> StepState | None:
        """The newest succeeded (or cached) execution of ``step`` with ``cache_key``."""
        ...

    def last_done(self, pipeline: str, step: str) -> StepState | None:
        """The newest execution of ``step`` that produced outputs (succeeded, cached, reused)."""
        ...

    def list_runs(self, *, pipeline: str | None = None, limit: int = 50) -> list[PipelineRun]:
        """Runs, newest first, with their steps."""
        ...

    def get_run(self, run_id: str) -> PipelineRun:
        """One run by id (or a unique prefix of at least 6 characters). Raises NotFound."""
        ...


__all__ = ["PipelineRunStore"]
