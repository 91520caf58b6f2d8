"""The gate-result store interface; ``SqlGates`` keeps results in the metadata database,
``HttpGates`` (``shipyard.client.http``) sends them to a team server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from shipyard.pipelines.gates.entities import Check, GateResult


class GateStore(Protocol):
    def record(
        self,
        model: str,
        version: int,
        *,
        champion_version: int | None,
        passed: bool,
        dataset: str | None,
        checks: Sequence[Check],
        config: dict[str, Any],
    ) -> GateResult:
        """Store a gate result (never changed afterwards) and tag the version with it
        (``shipyard.gate`` = passed/failed, ``shipyard.gate_id``). Raises NotFound (no such
        model version)."""
        ...

    def list(
        self, *, model: str | None = None, version: int | None = None, limit: int = 100
    ) -> list[GateResult]:
        """Results, newest first, of one model and/or version."""
        ...

    def get(self, result_id: int) -> GateResult:
        """One result. Raises NotFound."""
        ...
