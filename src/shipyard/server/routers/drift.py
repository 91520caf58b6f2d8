"""``/api/v1/drift``: drift between two dataset versions stored on the server."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from shipyard.data.datasets import DatasetStore
from shipyard.monitoring.drift import DriftConfig, compute_drift
from shipyard.monitoring.report import drift_report_dict, render_drift_html
from shipyard.server.deps import ServicesDep
from shipyard.server.schemas_drift import DriftRequest

router = APIRouter(prefix="/api/v1/drift", tags=["monitoring"])


@router.post("", response_model=None)
def drift(
    body: DriftRequest,
    services: ServicesDep,
    fmt: Literal["json", "html"] = Query("json", alias="format"),
) -> dict[str, Any] | HTMLResponse:
    """Test every column of ``current`` against ``reference`` (KS, Wasserstein and PSI for
    numbers; chi-square, Jensen-Shannon and PSI for categories). Returns the report as JSON,
    or with ``?format=html`` as a self-contained HTML page. 404 for an unknown dataset
    version; 400 for bad settings or columns that cannot be compared."""
    store = DatasetStore(services.datasets, services.artifacts)
    config = DriftConfig.from_dict(body.config)
    reference, _ = store.load(body.reference)
    current, _ = store.load(body.current)
    report = compute_drift(
        reference, current, config=config, columns=body.columns, thresholds=body.thresholds
    )
    if fmt == "html":
        page = render_drift_html(report, reference=body.reference, current=body.current)
        return HTMLResponse(page)
    return drift_report_dict(report, reference=body.reference, current=body.current)
