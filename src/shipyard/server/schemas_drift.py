"""Request body of ``POST /api/v1/drift`` (the response is the drift report's JSON)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DriftRequest(BaseModel):
    """Two dataset versions stored on the server, and optional drift settings."""

    model_config = ConfigDict(extra="forbid")

    reference: str = Field(description="Reference rows: a dataset NAME@VERSION (or NAME).")
    current: str = Field(description="Current rows: a dataset NAME@VERSION (or NAME).")
    columns: list[str] | None = Field(None, description="Only these columns (default: all).")
    config: dict[str, Any] | None = Field(
        None, description="Drift settings, as the drift: section of shipyard.yaml."
    )
    thresholds: dict[str, float] | None = Field(
        None, description="Per-column effect-size thresholds, over config."
    )
