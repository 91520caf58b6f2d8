"""The model server's OpenAPI document: each served model's columns as its request schema, its
example, and the response and error shapes (:func:`document`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from shipyard.serving.plan import ServedModel
from shipyard.serving.requests import record_model

if TYPE_CHECKING:
    from shipyard.serving.server import ModelServer


def document(doc: dict[str, Any], server: ModelServer) -> None:
    """Add every served model's predict operation, and ``/invocations``, to ``doc``."""
    for model in server.models.values():
        _document_model(doc, server, model)
    _document_invocations(doc, server)


def _document_model(doc: dict[str, Any], server: ModelServer, model: ServedModel) -> None:
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(_static_schemas())
    record = _record_schema(doc, server, model)
    body: dict[str, Any] = {
        "anyOf": [
            {
                "title": "records",
                "type": "object",
                "properties": {"records": {"type": "array", "items": record}},
                "required": ["records"],
            },
            {"title": "list of records", "type": "array", "items": record},
            _SPLIT_SCHEMA,
        ]
    }
    example = _example(server, model)
    content: dict[str, Any] = {"schema": body}
    if example is not None:
        content["example"] = {"records": example}
    doc.setdefault("paths", {})[f"/v1/models/{model.name}/predict"] = {
        "post": {
            "tags": ["predict"],
            "summary": f"Predict with {model.name}",
            "description": (
                f"Predictions of `{model.name}` ({model.primary}) for each row, with class "
                "probabilities for a classifier, the model version and an id per row."
            ),
            "operationId": f"predict_{model.name}",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": content,
                    "text/csv": {"schema": {"type": "string", "title": "CSV with a header line"}},
                },
            },
            "responses": _responses("#/components/schemas/PredictResponse"),
        }
    }


def _document_invocations(doc: dict[str, Any], server: ModelServer) -> None:
    model = server.models[server.default_name]
    record = _record_schema(doc, server, model)
    forms = [
        {"title": name, "type": "object", "properties": {name: schema}, "required": [name]}
        for name, schema in (
            ("dataframe_split", _SPLIT_SCHEMA),
            ("dataframe_records", {"type": "array", "items": record}),
            ("instances", {"type": "array", "items": {}}),
            ("inputs", {"anyOf": [{"type": "object"}, {"type": "array", "items": {}}]}),
        )
    ]
    doc.setdefault("paths", {})["/invocations"] = {
        "post": {
            "tags": ["predict"],
            "summary": f"MLflow-compatible scoring ({model.name})",
            "description": (
                "MLflow's scoring protocol, answered by the first served model "
                f'(`{model.name}`): `{{"predictions": [...]}}`.'
            ),
            "operationId": "invocations",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"anyOf": forms}},
                    "text/csv": {"schema": {"type": "string"}},
                },
            },
            "responses": _responses("#/components/schemas/InvocationsResponse"),
        }
    }


def _record_schema(doc: dict[str, Any], server: ModelServer, model: ServedModel) -> dict[str, Any]:
    slot = server.pool.slots[model.primary]
    signature = None if slot.current is None else slot.current.loaded.signature
    pyd = record_model(model.name, signature)
    if pyd is None:
        return {"type": "object", "title": f"{model.name} row (no signature: any columns)"}
    schema = pyd.model_json_schema(by_alias=True)
    title = str(schema.get("title", pyd.__name__))
    doc["components"]["schemas"][title] = schema
    return {"$ref": f"#/components/schemas/{title}"}


def _example(server: ModelServer, model: ServedModel) -> Any:
    slot = server.pool.slots[model.primary]
    if slot.current is None:
        return None
    example = slot.current.loaded.input_example()
    return example[:1] if isinstance(example, list) else None


def _responses(ok_ref: str) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    described = {
        "400": "malformed body",
        "404": "unknown model",
        "413": "body over the size limit",
        "415": "unsupported Content-Type",
        "422": "input does not fit the signature (each bad field listed)",
        "500": "the model raised",
        "503": "model still loading",
    }
    responses: dict[str, Any] = {
        "200": {
            "description": "predictions",
            "content": {"application/json": {"schema": {"$ref": ok_ref}}},
        }
    }
    responses.update({code: {"description": text, **error} for code, text in described.items()})
    return responses


_SPLIT_SCHEMA: dict[str, Any] = {
    "title": "split",
    "type": "object",
    "properties": {
        "columns": {"type": "array", "items": {"type": "string"}},
        "data": {"type": "array", "items": {"type": "array", "items": {}}},
    },
    "required": ["columns", "data"],
}


class PredictResponse(BaseModel):
    """The body of a successful ``/v1/models/{name}/predict``."""

    model: str
    version: int
    alias: str | None
    request_id: str
    predictions: list[Any] = Field(description="One prediction a row, in input order.")
    probabilities: list[dict[str, float | None]] | None = Field(
        None, description="For a classifier: one {class: probability} a row."
    )
    prediction_ids: list[str] = Field(description="One id a row, as in the prediction log.")


class InvocationsResponse(BaseModel):
    """The body of a successful ``/invocations`` (MLflow's shape)."""

    predictions: list[Any]


class FieldProblem(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    request_id: str
    fields: list[FieldProblem] | None = Field(None, description="422 only: each bad field.")


class Error(BaseModel):
    """Every error response."""

    error: ErrorDetail


def _static_schemas() -> dict[str, Any]:
    _, top = models_json_schema(
        [(m, "serialization") for m in (PredictResponse, InvocationsResponse, Error)],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = top["$defs"]
    return schemas
