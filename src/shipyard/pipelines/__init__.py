"""Pipelines: steps and DAGs from ``shipyard.yaml`` or Python, caching by content hash,
retries and timeouts, executors (local processes, Dask) and tuning.

>>> from shipyard.pipelines import Pipeline, step
>>> @step(outputs="n")
... def count(x: int = 3) -> int:
...     return x
>>> Pipeline("demo", [count]).order
('count',)
"""

from shipyard.pipelines.definitions import (
    Input,
    Pipeline,
    StepDef,
    get_pipeline,
    load_pipelines,
    step,
)
from shipyard.pipelines.entities import (
    ExecutorUnavailable,
    PipelineFailed,
    PipelineRun,
    PipelineRunResult,
    RunState,
    StepFailure,
    StepState,
    StepStatus,
    StepTimeout,
    WorkerLost,
)
from shipyard.pipelines.executors import Executor, open_executor
from shipyard.pipelines.fluent import (
    get_pipeline_run,
    list_pipeline_runs,
    list_pipelines,
    run_pipeline,
)

__all__ = [
    "Executor",
    "ExecutorUnavailable",
    "Input",
    "Pipeline",
    "PipelineFailed",
    "PipelineRun",
    "PipelineRunResult",
    "RunState",
    "StepDef",
    "StepFailure",
    "StepState",
    "StepStatus",
    "StepTimeout",
    "WorkerLost",
    "get_pipeline",
    "get_pipeline_run",
    "list_pipeline_runs",
    "list_pipelines",
    "load_pipelines",
    "open_executor",
    "run_pipeline",
    "step",
]
