"""The peer tools the benchmarks compare Shipyard with, each in its own virtualenv.

No peer is ever a dependency of Shipyard: each lives in ``benchmarks/.peers/<name>`` (gitignored),
created on first use with ``python3 -m venv`` and ``pip install <its requirements>``:

=========  =====================================================  ==============================
name       requirements                                           used by
=========  =====================================================  ==============================
mlflow     ``mlflow>=3,<4``                                       the tracking figures
pandera    ``pandera[pandas]>=0.35 pandas pyarrow``               ``bench_validation.py``
gx         ``great_expectations>=1.24 pyarrow``                   ``bench_validation.py``
feast      ``feast[duckdb]>=0.40 pandas pyarrow``                 the feature store figures
                                                                  (``peer_feast.py``)
evidently  ``evidently>=0.7,<0.8 pandas<3 pyarrow``               ``bench_drift.py``
                                                                  (``peer_evidently.py``;
                                                                  Evidently 0.7 needs pandas<3)
bentoml    ``bentoml>=1.4,<2 scikit-learn``                      ``bench_model_server.py``
=========  =====================================================  ==============================

Feast's local provider needs nothing beyond ``feast`` itself (its file offline store reads
Parquet with pandas/Dask, its SQLite online store uses the standard library); the ``duckdb``
extra adds the DuckDB offline store (through ibis) that the historical figure also measures.
On 2026-11-27 pip resolved it to feast 0.67.0, pandas 2.3.3 (Feast pins pandas < 3), pyarrow
26.0.1, numpy 2.4.6, dask 2026.8.0, duckdb 2.0.1 and ibis-framework 12.0.0; every figure records
the versions it ran with.

Run this file to create them ahead of time and print each interpreter and its versions::

    python benchmarks/peers.py                 # every peer
    python benchmarks/peers.py pandera gx      # only these

``BENCH_<NAME>_PYTHON=/path/to/python`` (e.g. ``BENCH_MLFLOW_PYTHON``) uses an existing
interpreter instead, and ``BENCH_<NAME>_SPEC`` (whitespace-separated requirements) changes what is
installed into a venv that is being created.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PEERS_DIR = BENCH_DIR / ".peers"
MLFLOW_VENV = PEERS_DIR / "mlflow"
MLFLOW_SPEC = "mlflow>=3,<4"
FEAST_SPEC = ("feast[duckdb]>=0.40", "pandas", "pyarrow")


@dataclass(frozen=True)
class Peer:
    """A peer tool: its venv name, what pip installs, the module that proves it is there, and
    the distributions whose versions a figure records."""

    name: str
    requirements: tuple[str, ...]
    module: str
    distributions: tuple[str, ...]

    @property
    def venv(self) -> Path:
        return PEERS_DIR / self.name


def known_peers() -> dict[str, Peer]:
    """Every peer the benchmarks know, by name."""
    peers = (
        Peer("mlflow", (MLFLOW_SPEC,), "mlflow", ("mlflow",)),
        Peer(
            "pandera",
            ("pandera[pandas]>=0.35", "pandas", "pyarrow"),
            "pandera.pandas",
            ("pandera", "pandas", "pyarrow", "numpy"),
        ),
        Peer(
            "gx",
            ("great_expectations>=1.24", "pyarrow"),
            "great_expectations",
            ("great_expectations", "pandas", "pyarrow", "numpy"),
        ),
        Peer(
            "feast",
            FEAST_SPEC,
            "feast",
            ("feast", "pandas", "pyarrow", "numpy", "dask", "duckdb", "ibis-framework"),
        ),
        Peer(
            "bentoml",
            ("bentoml>=1.4,<2", "scikit-learn"),
            "bentoml",
            ("bentoml", "scikit-learn", "numpy"),
        ),
        Peer(
            "evidently",
            ("evidently>=0.7,<0.8", "pandas<3", "pyarrow"),
            "evidently",
            ("evidently", "pandas", "numpy", "scipy", "pyarrow"),
        ),
    )
    return {p.name: p for p in peers}


def _env_key(name: str, what: str) -> str:
    return f"BENCH_{name.upper()}_{what}"


def _imports(python: Path, module: str) -> bool:
    probe = [str(python), "-c", f"import {module}"]
    return python.is_file() and subprocess.run(probe, capture_output=True).returncode == 0


def create_venv(venv: Path, requirements: tuple[str, ...] | list[str]) -> Path:
    """Create (or re-create) ``venv`` and pip-install ``requirements`` into it.

    Returns its ``python``. Raises CalledProcessError when venv creation or pip fails.
    """
    print(f"creating {venv} with {' '.join(requirements)} (once; gitignored)", file=sys.stderr)
    base = os.environ.get("BENCH_BASE_PYTHON", "python3")
    subprocess.run([base, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, *requirements], check=True, stdout=sys.stderr)
    return venv / "bin" / "python"


def peer_python(name: str) -> Path:
    """The interpreter that has peer ``name``, creating ``benchmarks/.peers/<name>`` when missing.

    Raises KeyError for an unknown peer, RuntimeError when ``BENCH_<NAME>_PYTHON`` names an
    interpreter that cannot import the peer, and CalledProcessError when creating the venv fails.
    """
    peer = known_peers()[name]
    override = os.environ.get(_env_key(name, "PYTHON"))
    if override:
        python = Path(override)
        if not _imports(python, peer.module):
            raise RuntimeError(
                f"{_env_key(name, 'PYTHON')}={override} cannot import {peer.module}; unset it to "
                f"let the benchmarks create {peer.venv}, or point it at a Python that has it."
            )
        return python
    python = peer.venv / "bin" / "python"
    if not _imports(python, peer.module):
        spec = os.environ.get(_env_key(name, "SPEC"))
        create_venv(peer.venv, spec.split() if spec else peer.requirements)
    return python


def peer_versions(name: str, python: Path | None = None) -> dict[str, str | None]:
    """The installed versions of peer ``name``'s distributions (None for one that is missing)."""
    peer = known_peers()[name]
    code = (
        "import importlib.metadata as m, json, sys\n"
        "def v(d):\n"
        "    try: return m.version(d)\n"
        "    except m.PackageNotFoundError: return None\n"
        "print(json.dumps({d: v(d) for d in sys.argv[1:]}))"
    )
    cmd = [str(python or peer_python(name)), "-c", code, *peer.distributions]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    versions: dict[str, str | None] = json.loads(out.stdout)
    return versions


def mlflow_python() -> Path:
    """The interpreter that has MLflow, creating ``benchmarks/.peers/mlflow`` when missing.

    Returns the path of its ``python``. Raises RuntimeError when ``BENCH_MLFLOW_PYTHON`` names an
    interpreter without MLflow, and CalledProcessError when creating the venv fails.
    """
    return peer_python("mlflow")


def mlflow_version(python: Path) -> str:
    """The MLflow version installed for ``python``."""
    code = "import mlflow; print(mlflow.__version__)"
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


if __name__ == "__main__":
    for wanted in sys.argv[1:] or list(known_peers()):
        found = peer_python(wanted)
        print(f"{wanted}: {found}  {peer_versions(wanted, found)}")
