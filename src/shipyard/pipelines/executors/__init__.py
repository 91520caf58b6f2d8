"""Executors: where steps, trials and batch-prediction chunks run, chosen by URL.

``local`` (or ``local:N`` for N worker processes; the default) is a process pool on this
machine; ``dask://host:port`` a Dask distributed scheduler; ``dask://local`` a Dask
LocalCluster started for the run. Every executor implements :class:`Executor`.
"""

from __future__ import annotations

from shipyard.errors import InvalidArgument
from shipyard.pipelines.executors.base import Executor


def open_executor(url: str | None = None) -> Executor:
    """The executor ``url`` names (not started: nothing is spawned or connected yet).

    Raises InvalidArgument for a URL that names no executor.

    >>> open_executor("local:2").url
    'local:2'
    """
    url = (url or "local").strip()
    if url == "local" or url.startswith("local:"):
        from shipyard.pipelines.executors.local import LocalExecutor

        return LocalExecutor.from_url(url)
    if url.startswith("dask://"):
        from shipyard.pipelines.executors.dask import DaskExecutor

        return DaskExecutor.from_url(url)
    raise InvalidArgument(
        f"executor {url!r} is not one of: local, local:N (N worker processes), "
        "dask://host:port (a Dask scheduler), dask://local (a local Dask cluster)"
    )


__all__ = ["Executor", "open_executor"]
