"""What a run records without being asked: code version, command, environment, host.

Computed once per process (git is asked once), so creating many runs stays cheap.
"""

from __future__ import annotations

import json
import platform
import socket
import subprocess
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

KEY_PACKAGES = ("shipyard", "scikit-learn", "numpy", "pandas", "pyarrow", "scipy", "skops")

TAG_GIT_COMMIT = "shipyard.git.commit"
TAG_GIT_DIRTY = "shipyard.git.dirty"
TAG_GIT_BRANCH = "shipyard.git.branch"
TAG_COMMAND = "shipyard.source.command"
TAG_SOURCE = "shipyard.source.name"
TAG_PYTHON = "shipyard.python.version"
TAG_PACKAGES = "shipyard.packages"
TAG_HOST = "shipyard.host"
TAG_AUTOLOG = "shipyard.autolog"


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def _source_dir() -> Path:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return Path(path).resolve().parent if path else Path.cwd()


@cache
def git_info() -> dict[str, str]:
    """Commit, branch and dirty flag of the repository holding the running script, if any."""
    cwd = _source_dir()
    commit = _git(["rev-parse", "HEAD"], cwd)
    if not commit:
        return {}
    status = _git(["status", "--porcelain", "--untracked-files=no"], cwd)
    info = {TAG_GIT_COMMIT: commit, TAG_GIT_DIRTY: "true" if status else "false"}
    branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], cwd)
    if branch and branch != "HEAD":
        info[TAG_GIT_BRANCH] = branch
    return info


@cache
def package_versions() -> dict[str, str]:
    """Installed versions of the packages that matter for reproducing a run."""
    versions = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


@cache
def system_tags() -> dict[str, str]:
    """Every tag recorded automatically on a new run."""
    tags = {
        TAG_COMMAND: " ".join(sys.argv)[:8000] or sys.executable,
        TAG_SOURCE: Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "<interactive>",
        TAG_PYTHON: platform.python_version(),
        TAG_PACKAGES: json.dumps(package_versions(), sort_keys=True),
        TAG_HOST: socket.gethostname(),
    }
    tags.update(git_info())
    return tags
