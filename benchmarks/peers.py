"""The peer tools the benchmarks compare Shipyard with, each in its own virtualenv.

MLflow is never a dependency of Shipyard: it lives in ``benchmarks/.peers/mlflow`` (gitignored),
created on first use with ``python3 -m venv`` and ``pip install "mlflow>=3,<4"``. Run this file to
create it ahead of time and print the interpreter's path::

    python benchmarks/peers.py            # creates benchmarks/.peers/mlflow when missing

``BENCH_MLFLOW_PYTHON=/path/to/python`` uses an existing interpreter that has MLflow instead, and
``BENCH_MLFLOW_SPEC`` changes the requirement that is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PEERS_DIR = BENCH_DIR / ".peers"
MLFLOW_VENV = PEERS_DIR / "mlflow"
MLFLOW_SPEC = "mlflow>=3,<4"


def _has_mlflow(python: Path) -> bool:
    probe = [str(python), "-c", "import mlflow"]
    return python.is_file() and subprocess.run(probe, capture_output=True).returncode == 0


def _create_venv(venv: Path, requirement: str) -> None:
    print(f"creating {venv} with {requirement} (once; it is gitignored)", file=sys.stderr)
    base = os.environ.get("BENCH_BASE_PYTHON", "python3")
    subprocess.run([base, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, requirement], check=True, stdout=sys.stderr)


def mlflow_python() -> Path:
    """The interpreter that has MLflow, creating ``benchmarks/.peers/mlflow`` when missing.

    Returns the path of its ``python``. Raises RuntimeError when ``BENCH_MLFLOW_PYTHON`` names an
    interpreter without MLflow, and CalledProcessError when creating the venv fails.
    """
    override = os.environ.get("BENCH_MLFLOW_PYTHON")
    if override:
        python = Path(override)
        if not _has_mlflow(python):
            raise RuntimeError(
                f"BENCH_MLFLOW_PYTHON={override} cannot import mlflow; unset it to let the "
                f"benchmarks create {MLFLOW_VENV}, or point it at a Python that has MLflow 3."
            )
        return python
    python = MLFLOW_VENV / "bin" / "python"
    if not _has_mlflow(python):
        _create_venv(MLFLOW_VENV, os.environ.get("BENCH_MLFLOW_SPEC", MLFLOW_SPEC))
    return python


def mlflow_version(python: Path) -> str:
    """The MLflow version installed for ``python``."""
    code = "import mlflow; print(mlflow.__version__)"
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


if __name__ == "__main__":
    found = mlflow_python()
    print(f"{found}  (mlflow {mlflow_version(found)})")
