"""``/api/v1/features``: definitions, materialization state, online lookups and pushes."""

from __future__ import annotations

from fastapi import APIRouter

from shipyard.features.definitions import definition_from_dict
from shipyard.features.fluent import feature_store_for
from shipyard.server.deps import ServicesDep
from shipyard.server.online import online_rows
from shipyard.server.schemas import (
    AppliedList,
    AppliedOut,
    DefinitionList,
    DefinitionOut,
    DefinitionsApply,
    MaterializationIO,
    MaterializationSet,
    MaterializeOut,
    MaterializeRequest,
    OnlineRequest,
    OnlineResponse,
    PushRequest,
    PushResponse,
    SkewOut,
)

router = APIRouter(prefix="/api/v1/features", tags=["features"])


@router.get("/definitions")
def list_definitions(services: ServicesDep, kind: str | None = None) -> DefinitionList:
    """The newest version of every entity, view and service (or of one kind)."""
    found = services.features.list_definitions(kind)
    return DefinitionList(definitions=[DefinitionOut.from_entity(d) for d in found])


@router.post("/definitions")
def apply_definitions(body: DefinitionsApply, services: ServicesDep) -> AppliedList:
    """Record definitions checked by the client; each must parse as its kind."""
    specs = []
    for d in body.definitions:
        definition_from_dict(str(d.kind), str(d.name), d.spec)  # well-formed, or a 400
        specs.append((d.kind, d.name, d.spec, d.spec_hash))
    applied = services.features.apply(specs)
    return AppliedList(applied=[AppliedOut(**a.__dict__) for a in applied])


@router.get("/definitions/{kind}/{name}")
def get_definition(
    kind: str, name: str, services: ServicesDep, version: int | None = None
) -> DefinitionOut:
    """One definition, the newest version unless ``version`` is given."""
    return DefinitionOut.from_entity(services.features.get_definition(kind, name, version))


@router.get("/definitions/{kind}/{name}/history")
def definition_history(kind: str, name: str, services: ServicesDep) -> DefinitionList:
    """Every version of one definition, newest first."""
    found = services.features.history(kind, name)
    return DefinitionList(definitions=[DefinitionOut.from_entity(d) for d in found])


@router.get("/materializations/{view}")
def get_materialization(view: str, services: ServicesDep) -> MaterializationIO | None:
    """How far ``view`` was materialized (null before the first time)."""
    state = services.features.get_materialization(view)
    return None if state is None else MaterializationIO(**state.__dict__)


@router.put("/materializations/{view}")
def set_materialization(
    view: str, body: MaterializationSet, services: ServicesDep
) -> MaterializationIO:
    """Record a finished materialization of ``view``."""
    state = services.features.set_materialization(
        view, watermark_us=body.watermark_us, rows=body.rows, online_store=body.online_store
    )
    return MaterializationIO(**state.__dict__)


@router.post("/online", response_model=OnlineResponse)
def online_features(body: OnlineRequest, services: ServicesDep) -> OnlineResponse:
    """Feature values of the given entities from the server's online store, with each view's
    event time and status (present, missing, expired).

    The server answers this path on a short way (:mod:`shipyard.server.online`); this route
    documents it and answers when the app is mounted without that short way."""
    return OnlineResponse.model_construct(rows=online_rows(services, body))


@router.post("/push")
def push(body: PushRequest, services: ServicesDep) -> PushResponse:
    """Write fresh rows to the online store now and append them offline."""
    return PushResponse(rows=feature_store_for(services).push(body.view, body.rows))


@router.post("/materialize")
def materialize(body: MaterializeRequest, services: ServicesDep) -> MaterializeOut:
    """Load the views' latest values into the server's online store."""
    results = feature_store_for(services).materialize(body.views, incremental=body.incremental)
    return MaterializeOut(
        results=[MaterializationIO(**{**r.state.__dict__, "rows": r.rows}) for r in results]
    )


@router.get("/skew/{view}")
def skew(view: str, services: ServicesDep, sample: int = 100) -> SkewOut:
    """Compare the server's online values of a sample of entities with a fresh offline
    computation; every missing or differing value is listed."""
    from shipyard.errors import InvalidArgument

    if not 1 <= sample <= 100_000:
        raise InvalidArgument(f"sample must be between 1 and 100000, not {sample}")
    report = feature_store_for(services).skew(view, sample=sample)
    return SkewOut.model_validate(
        {
            "view": report.view,
            "checked": report.checked,
            "mismatches": [m.__dict__ for m in report.mismatches],
        }
    )
