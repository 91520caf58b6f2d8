"""``/api/v1/feedback`` (ground truth) and ``/api/v1/monitoring/…`` (checks, alerts,
retrainings): what monitors record, shared by everyone using the team server."""

from __future__ import annotations

from fastapi import APIRouter, status

from shipyard.monitoring.entities import Delivery
from shipyard.monitoring.feedback import normalize_labels
from shipyard.server.deps import ServicesDep
from shipyard.server.schemas_monitoring import (
    AlertIn,
    AlertList,
    AlertOut,
    CheckIn,
    CheckList,
    CheckOut,
    FeedbackIn,
    FeedbackOut,
    FeedbackTable,
    RetrainingIn,
    RetrainingList,
    RetrainingOut,
)

router = APIRouter(prefix="/api/v1", tags=["monitoring"])


@router.post("/feedback", status_code=status.HTTP_201_CREATED)
def record_feedback(body: FeedbackIn, services: ServicesDep) -> FeedbackOut:
    """Store labels of logged predictions, by prediction id or by entity key and time.
    All or nothing: labels that match no logged prediction give a 400 with examples."""
    table = normalize_labels(
        body.labels, label=body.label, id_column=body.id_column, keys=body.keys, ts=body.ts
    )
    receipt = services.monitoring.record_feedback(
        str(body.model), table, keys=tuple(body.keys), allow_unknown=body.allow_unknown
    )
    return FeedbackOut.from_entity(receipt)


@router.get("/feedback")
def list_feedback(model: str, services: ServicesDep) -> FeedbackTable:
    """Every stored label of ``model``, as columns."""
    table = services.monitoring.feedback(model)
    return FeedbackTable.model_validate(table.to_pydict())


@router.post("/monitoring/checks", status_code=status.HTTP_201_CREATED)
def record_check(body: CheckIn, services: ServicesDep) -> CheckOut:
    """Store one check's results (what a client's ``run_monitor`` measured)."""
    check = services.monitoring.record_check(
        monitor=body.monitor,
        model=body.model,
        version=body.version,
        status=body.status,
        window=(body.window_start, body.window_end),
        rows=body.rows,
        labelled=body.labelled,
        metrics=body.metrics,
        details=body.details,
        report=body.report,
        started_at=body.started_at,
    )
    return CheckOut.from_entity(check)


@router.get("/monitoring/checks")
def list_checks(
    services: ServicesDep, monitor: str | None = None, model: str | None = None, limit: int = 100
) -> CheckList:
    """Checks, newest first."""
    found = services.monitoring.list_checks(monitor=monitor, model=model, limit=limit)
    return CheckList(checks=[CheckOut.from_entity(c) for c in found])


@router.get("/monitoring/checks/{check_id}")
def get_check(check_id: int, services: ServicesDep) -> CheckOut:
    """One check."""
    return CheckOut.from_entity(services.monitoring.get_check(check_id))


@router.post("/monitoring/alerts", status_code=status.HTTP_201_CREATED)
def record_alert(body: AlertIn, services: ServicesDep) -> AlertOut:
    """Store an alert and what its channels did with it."""
    alert = services.monitoring.record_alert(
        monitor=body.monitor,
        check_id=body.check_id,
        rule=body.rule,
        metric=body.metric,
        value=body.value,
        threshold=body.threshold,
        state=body.state,
        message=body.message,
        deliveries=[Delivery(**d.model_dump()) for d in body.deliveries],
    )
    return AlertOut.from_entity(alert)


@router.get("/monitoring/alerts")
def list_alerts(
    services: ServicesDep,
    monitor: str | None = None,
    rule: str | None = None,
    state: str | None = None,
    since: int | None = None,
    limit: int = 100,
) -> AlertList:
    """Alerts, newest first; ``state`` and ``since`` (epoch ms) narrow them."""
    found = services.monitoring.list_alerts(
        monitor=monitor, rule=rule, state=state, since=since, limit=limit
    )
    return AlertList(alerts=[AlertOut.from_entity(a) for a in found])


@router.post("/monitoring/retrainings", status_code=status.HTTP_201_CREATED)
def record_retraining(body: RetrainingIn, services: ServicesDep) -> RetrainingOut:
    """Store one run of a retraining policy."""
    found = services.monitoring.record_retraining(
        monitor=body.monitor,
        model=body.model,
        trigger=body.trigger,
        outcome=body.outcome,
        champion=body.champion,
        challenger=body.challenger,
        steps=body.steps,
    )
    return RetrainingOut.from_entity(found)


@router.get("/monitoring/retrainings")
def list_retrainings(
    services: ServicesDep, model: str | None = None, limit: int = 100
) -> RetrainingList:
    """Retrainings, newest first."""
    found = services.monitoring.list_retrainings(model=model, limit=limit)
    return RetrainingList(retrainings=[RetrainingOut.from_entity(r) for r in found])
