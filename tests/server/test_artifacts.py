"""Artifact upload and download over raw HTTP: streamed, sized, checksummed, path-checked."""

from __future__ import annotations

import hashlib
import os

import httpx

from shipyard.artifacts.owners import model_owner
from shipyard.server.schemas import SHA256_HEADER
from tests.server.conftest import Served


def _run(http: httpx.Client) -> str:
    exp = http.post("/api/v1/experiments", json={"name": "a"}).json()
    return str(
        http.post("/api/v1/runs", json={"experiment_id": exp["experiment_id"]}).json()["run_id"]
    )


def _chunks(data: bytes, size: int = 256 * 1024) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_streamed_round_trip_of_a_few_megabytes(http: httpx.Client) -> None:
    run_id = _run(http)
    data = os.urandom(5 * 1024 * 1024 + 17)
    digest = hashlib.sha256(data).hexdigest()
    url = f"/api/v1/runs/{run_id}/artifacts/data/blob.bin"
    put = http.put(url, content=iter(_chunks(data)), headers={SHA256_HEADER: digest})
    assert put.status_code == 201, put.text
    assert put.json() == {
        "path": "data/blob.bin",
        "is_dir": False,
        "size": len(data),
        "sha256": digest,
    }

    with http.stream("GET", url) as got:
        assert got.status_code == 200
        assert got.headers["content-length"] == str(len(data))
        assert got.headers[SHA256_HEADER.lower()] == digest
        body = b"".join(got.iter_bytes())
    assert hashlib.sha256(body).hexdigest() == digest

    listing = http.get(f"/api/v1/runs/{run_id}/artifacts", params={"path": "data"}).json()
    assert listing == {"files": [put.json()]}
    top = http.get(f"/api/v1/runs/{run_id}/artifacts").json()["files"]
    assert top == [{"path": "data", "is_dir": True, "size": None, "sha256": None}]


def test_upload_with_a_wrong_checksum_is_refused_and_not_stored(http: httpx.Client) -> None:
    run_id = _run(http)
    url = f"/api/v1/runs/{run_id}/artifacts/x.bin"
    response = http.put(url, content=b"hello", headers={SHA256_HEADER: "0" * 64})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "INTEGRITY_ERROR"
    assert http.get(url).status_code == 404


def test_paths_cannot_escape_the_owner(http: httpx.Client) -> None:
    run_id = _run(http)
    for path in ("%2E%2E/evil.txt", "a/%2E%2E/%2E%2E/evil.txt", "a%5Cb.txt"):
        response = http.put(f"/api/v1/runs/{run_id}/artifacts/{path}", content=b"x")
        assert response.status_code == 400, (path, response.text)
        assert response.json()["error"]["code"] == "INVALID_ARGUMENT"


def test_download_errors(http: httpx.Client) -> None:
    run_id = _run(http)
    http.put(f"/api/v1/runs/{run_id}/artifacts/folder/f.txt", content=b"x")
    base = f"/api/v1/runs/{run_id}/artifacts"
    assert http.get(f"{base}/missing.txt").json()["error"]["code"] == "NOT_FOUND"
    folder = http.get(f"{base}/folder")
    assert folder.status_code == 400 and "folder" in folder.json()["error"]["message"]
    assert http.get(base, params={"path": "nope"}).status_code == 404


def test_model_version_and_copy_routes(served: Served, http: httpx.Client) -> None:
    run_id = _run(http)
    http.put(f"/api/v1/runs/{run_id}/artifacts/model/w.bin", content=b"weights")
    version = http.post(
        "/api/v1/models/churn/versions",
        json={"run_id": run_id, "artifact_path": "model", "flavor": "x"},
    )
    assert version.status_code == 201, version.text
    files = http.get("/api/v1/models/churn/versions/1/artifacts").json()["files"]
    assert [f["path"] for f in files] == ["w.bin"]
    assert http.get("/api/v1/models/churn/versions/1/artifacts/w.bin").content == b"weights"

    copied = http.post(
        "/api/v1/artifacts/copy",
        json={
            "src_owner": model_owner("churn", 1),
            "src_path": "",
            "dst_owner": "dataset:d@1",
            "dst_path": "copy",
        },
    )
    assert copied.json() == {"count": 1}
    assert http.get("/api/v1/datasets/d/versions/1/artifacts/copy/w.bin").content == b"weights"
    assert [i.path for i in served.services.artifacts.list("dataset:d@1", "copy")] == ["copy/w.bin"]
