"""``use: check`` — validate a dataset version with a suite (``shipyard.data.validation``).

Input ``dataset``; ``with: {suite: suite.yaml, quarantine: true}``. Failing rows go to
``NAME-quarantine``; an error-level rule that fails fails the step (downstream steps are
skipped). Outputs ``dataset`` (the same version, now known good) and ``report`` (a summary).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipyard.errors import InvalidArgument
from shipyard.pipelines.steps import Builtin, StepContext


def run(ctx: StepContext) -> Mapping[str, Any]:
    from shipyard.data.fluent import check_dataset
    from shipyard.tracking import fluent

    ref = str(ctx.inputs["dataset"])
    checked = check_dataset(
        ref, ctx.path(ctx.param("suite")), quarantine=bool(ctx.params.get("quarantine", True))
    )
    report = checked.report
    failed = [r.name for r in report.results if not r.passed]
    summary = {
        "suite": report.suite,
        "passed": report.passed,
        "failed_rules": failed,
        "quarantined": checked.quarantine.ref if checked.quarantine is not None else None,
    }
    if ctx.run_id:
        fluent.log_metrics(
            {"rules_failed": float(len(failed)), "rules": float(len(report.results))},
            run_id=ctx.run_id,
        )
    if not report.passed:
        errors = [r.name for r in report.results if not r.passed and r.severity == "error"]
        raise InvalidArgument(
            f"{ref} failed error-level rule(s) {errors} of suite {report.suite!r}; "
            f"`shipyard data check {ref} --suite {ctx.param('suite')}` shows the rows"
        )
    return {"dataset": ref, "report": summary}


STEP = Builtin(
    name="check",
    version="1",
    run=run,
    inputs=("dataset",),
    outputs={"dataset": "dataset", "report": "value"},
    file_params=("suite",),
    doc=__doc__ or "",
)
