"""``/health/live`` (the process answers) and ``/health/ready`` (the metadata DB answers)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from shipyard.client import Services
from shipyard.errors import ShipyardError
from shipyard.server.deps import ServicesDep
from shipyard.server.schemas import HealthOut
from shipyard.store import Database

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
def live() -> HealthOut:
    """Always 200 while the process serves requests."""
    return HealthOut(status="ok")


@router.get("/ready", responses={503: {"model": HealthOut}})
def ready(services: ServicesDep) -> JSONResponse:
    """200 when the metadata database answers ``SELECT 1``, else 503 saying why."""
    try:
        ping(services)
    except Exception as exc:  # any failure to answer means "not ready", never a 500
        body = HealthOut(status="unavailable", detail=f"{type(exc).__name__}: {exc}")
        return JSONResponse(body.model_dump(), status_code=503)
    return JSONResponse(HealthOut(status="ok").model_dump())


def ping(services: Services) -> None:
    """Run ``SELECT 1`` on the services' metadata database. Raises StoreUnavailable."""
    db = getattr(services.tracking, "db", None)
    if not isinstance(db, Database):
        raise ShipyardError(f"cannot check the database behind {type(services.tracking).__name__}")
    with db.read() as conn:
        conn.execute(text("SELECT 1"))
