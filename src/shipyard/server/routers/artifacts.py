"""Artifact files of a run, a model version or a dataset version: upload, list, download.

The same three operations are mounted under each owner's resource::

    PUT  /api/v1/runs/{run_id}/artifacts/{path}                        upload (raw body)
    GET  /api/v1/runs/{run_id}/artifacts?path=&recursive=              list
    GET  /api/v1/runs/{run_id}/artifacts/{path}                        download
    …    /api/v1/models/{model_name}/versions/{model_version}/artifacts…
    …    /api/v1/datasets/{dataset_name}/versions/{dataset_version}/artifacts…
    POST /api/v1/artifacts/copy                                        share files by reference

Uploads stream the request body chunk by chunk into the blob store (never held in memory);
downloads stream the verified blob with its size (``Content-Length``) and digest
(``X-Shipyard-SHA256``), which the client checks after writing the file.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from functools import partial
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Header, Request, status
from fastapi.responses import StreamingResponse

from shipyard.artifacts.owners import dataset_owner, model_owner, run_owner
from shipyard.server.deps import ServicesDep
from shipyard.server.schemas import (
    SHA256_HEADER,
    ArtifactCopy,
    ArtifactList,
    ArtifactOut,
    CopyOut,
)

OWNER_PREFIXES = (
    "/api/v1/runs/{run_id}/artifacts",
    "/api/v1/models/{model_name}/versions/{model_version:int}/artifacts",
    "/api/v1/datasets/{dataset_name}/versions/{dataset_version}/artifacts",
)


def artifact_owner(request: Request) -> str:
    """The owner key named by the path: ``run:<id>``, ``model:<name>/<v>`` or a dataset's."""
    params = request.path_params
    if "run_id" in params:
        return run_owner(params["run_id"])
    if "model_name" in params:
        return model_owner(params["model_name"], params["model_version"])
    return dataset_owner(params["dataset_name"], params["dataset_version"])


OwnerDep = Annotated[str, Depends(artifact_owner)]


def list_artifacts(
    owner: OwnerDep, services: ServicesDep, path: str = "", recursive: bool = False
) -> ArtifactList:
    """Direct children of ``path`` (files and folders), or every file below it."""
    found = services.artifacts.list(owner, path, recursive=recursive)
    return ArtifactList(files=[ArtifactOut.from_entity(i) for i in found])


async def upload_artifact(
    request: Request,
    path: str,
    owner: OwnerDep,
    services: ServicesDep,
    sha256: Annotated[str | None, Header(alias=SHA256_HEADER)] = None,
) -> ArtifactOut:
    """Store the raw request body as the file ``path``, streamed, checked against the digest."""
    chunks = _blocking_chunks(request.stream())
    upload = partial(services.artifacts.upload_stream, owner, path, chunks, sha256=sha256)
    info = await anyio.to_thread.run_sync(upload)
    return ArtifactOut.from_entity(info)


def download_artifact(path: str, owner: OwnerDep, services: ServicesDep) -> StreamingResponse:
    """Stream one file; 404 if missing, 400 for a folder."""
    chunks = services.artifacts.open(owner, path)
    info = services.artifacts.list(owner, path)[0]
    headers = {"Content-Length": str(info.size), SHA256_HEADER: str(info.sha256)}
    return StreamingResponse(chunks, media_type="application/octet-stream", headers=headers)


def _blocking_chunks(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """Read an async byte stream from a worker thread, one chunk at a time (no buffering)."""
    while (chunk := anyio.from_thread.run(_next_chunk, stream)) is not None:
        if chunk:
            yield chunk


async def _next_chunk(stream: AsyncIterator[bytes]) -> bytes | None:
    try:
        return await anext(stream)
    except StopAsyncIteration:
        return None


_RAW_BODY = {
    "required": True,
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}


def _owner_router(prefix: str) -> APIRouter:
    """The three artifact routes below one owner's URL, its path params documented."""
    extra = {
        "parameters": [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer" if kind == ":int" else "string"},
            }
            for name, kind in re.findall(r"\{(\w+)(:\w+)?\}", prefix)
        ]
    }
    router = APIRouter(prefix=prefix, tags=["artifacts"])
    router.add_api_route("", list_artifacts, methods=["GET"], openapi_extra=extra)
    router.add_api_route(
        "/{path:path}",
        upload_artifact,
        methods=["PUT"],
        status_code=status.HTTP_201_CREATED,
        openapi_extra={**extra, "requestBody": _RAW_BODY},
    )
    router.add_api_route(
        "/{path:path}",
        download_artifact,
        methods=["GET"],
        response_class=StreamingResponse,
        openapi_extra=extra,
    )
    return router


router = APIRouter(tags=["artifacts"])
for _prefix in OWNER_PREFIXES:
    router.include_router(_owner_router(_prefix))


@router.post("/api/v1/artifacts/copy")
def copy_artifacts(body: ArtifactCopy, services: ServicesDep) -> CopyOut:
    """Share a file or folder of one owner with another by reference (no bytes copied)."""
    count = services.artifacts.copy(body.src_owner, body.src_path, body.dst_owner, body.dst_path)
    return CopyOut(count=count)
