"""The trigger store interface: ``SqlTriggers`` on the metadata database, ``HttpTriggers``
(``shipyard.client.http``) over a team server. A claim is a unique (job, slot) row, so two
schedulers never run the same slot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from shipyard.pipelines.scheduler.entities import Trigger


class TriggerStore(Protocol):
    def register_jobs(self, jobs: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
        """Record jobs not seen before; return each job's first-seen time (ms). A slot before
        that time is never due."""
        ...

    def claim(self, job: str, slot: str, *, reason: str, owner: str) -> Trigger | None:
        """Claim (job, slot) as ``running``; None when it was already claimed by anyone."""
        ...

    def heartbeat(self, trigger_ids: Sequence[int]) -> None:
        """Mark these running triggers alive now."""
        ...

    def finish(
        self, trigger_id: int, *, state: str, run_id: str | None = None, error: str | None = None
    ) -> Trigger:
        """Record how a trigger ended. Raises NotFound, InvalidArgument (bad state)."""
        ...

    def sweep(self, *, stale_after_ms: int) -> list[Trigger]:
        """Mark ``running`` triggers silent for ``stale_after_ms`` as ``interrupted``."""
        ...

    def list(
        self, *, job: str | None = None, state: str | None = None, limit: int = 100
    ) -> list[Trigger]:
        """Triggers, newest first."""
        ...

    def get(self, trigger_id: int) -> Trigger:
        """One trigger. Raises NotFound."""
        ...

    def last_slot(self, job: str) -> str | None:
        """The newest slot ever claimed for ``job`` (any state)."""
        ...
