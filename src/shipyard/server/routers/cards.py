"""``/api/v1/models/{name}/versions/{version}/card``: the generated model card."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response

from shipyard.pipelines.cards.fluent import build_card
from shipyard.server.deps import ServicesDep
from shipyard.server.schemas_gates import CardOut

router = APIRouter(prefix="/api/v1/models", tags=["models"])


@router.get("/{name}/versions/{version}/card", response_model=None)
def card(
    name: str,
    version: int,
    services: ServicesDep,
    format: Literal["json", "md", "html"] = "json",
) -> CardOut | Response:
    """The model card of a version: JSON (its data and Markdown), ``?format=md`` or
    ``?format=html`` (one self-contained page)."""
    found = build_card(services, name, version)
    if format == "md":
        return Response(found.to_markdown(), media_type="text/markdown; charset=utf-8")
    if format == "html":
        return Response(found.to_html(), media_type="text/html; charset=utf-8")
    return CardOut(
        model=found.model, version=found.version, markdown=found.to_markdown(), card=found.to_dict()
    )
