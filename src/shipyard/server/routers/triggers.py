"""``/api/v1/scheduler``: the scheduler's jobs and triggers (read them; a scheduler running
against this server claims and finishes its slots here)."""

from __future__ import annotations

from fastapi import APIRouter

from shipyard.server.deps import ServicesDep
from shipyard.server.schemas_gates import (
    ClaimIn,
    ClaimOut,
    FinishIn,
    HeartbeatIn,
    JobsIn,
    JobsOut,
    LastSlotOut,
    SweepIn,
    TriggerList,
    TriggerOut,
)

router = APIRouter(prefix="/api/v1/scheduler", tags=["scheduler"])


@router.get("/triggers")
def list_triggers(
    services: ServicesDep, job: str | None = None, state: str | None = None, limit: int = 100
) -> TriggerList:
    """Triggers, newest first (of one job and/or state)."""
    found = services.triggers.list(job=job, state=state, limit=limit)
    return TriggerList(triggers=[TriggerOut.from_entity(t) for t in found])


@router.get("/triggers/{trigger_id}")
def get(trigger_id: int, services: ServicesDep) -> TriggerOut:
    """One trigger."""
    return TriggerOut.from_entity(services.triggers.get(trigger_id))


@router.post("/jobs")
def register_jobs(body: JobsIn, services: ServicesDep) -> JobsOut:
    """Record jobs not seen before; answers each job's first-seen time."""
    return JobsOut(registered_at=services.triggers.register_jobs(body.jobs))


@router.post("/claims")
def claim(body: ClaimIn, services: ServicesDep) -> ClaimOut:
    """Claim (job, slot); ``trigger`` is null when it was already claimed."""
    found = services.triggers.claim(body.job, body.slot, reason=body.reason, owner=body.owner)
    return ClaimOut(trigger=None if found is None else TriggerOut.from_entity(found))


@router.post("/heartbeats", status_code=204)
def heartbeat(body: HeartbeatIn, services: ServicesDep) -> None:
    """Mark running triggers alive."""
    services.triggers.heartbeat(body.ids)


@router.post("/triggers/{trigger_id}/finish")
def finish(trigger_id: int, body: FinishIn, services: ServicesDep) -> TriggerOut:
    """Record how a trigger ended."""
    done = services.triggers.finish(
        trigger_id, state=body.state, run_id=body.run_id, error=body.error
    )
    return TriggerOut.from_entity(done)


@router.post("/sweeps")
def sweep(body: SweepIn, services: ServicesDep) -> TriggerList:
    """Mark silent running triggers interrupted; answers those it marked."""
    found = services.triggers.sweep(stale_after_ms=body.stale_after_ms)
    return TriggerList(triggers=[TriggerOut.from_entity(t) for t in found])


@router.get("/jobs/{job}/last-slot")
def last_slot(job: str, services: ServicesDep) -> LastSlotOut:
    """The newest slot claimed for ``job``."""
    return LastSlotOut(slot=services.triggers.last_slot(job))
