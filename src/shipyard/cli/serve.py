"""``shipyard serve`` — the model server (REST predictions for one or several models)."""

from __future__ import annotations

import typer

from shipyard.cli._common import console, handle_errors


@handle_errors
def serve(
    refs: list[str] = typer.Argument(
        ...,
        help="Models to serve: churn@champion, fraud/3, … or a model package folder (the "
        "first one also answers MLflow's /invocations).",
        show_default=False,
    ),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Worker processes (each loads every model)."),
    max_batch_size: int = typer.Option(64, min=1, help="Most rows in one batched model call."),
    max_wait_ms: float = typer.Option(
        2.0, min=0.0, max=1000.0, help="Longest wait for more requests to join a batch."
    ),
    no_batching: bool = typer.Option(
        False, "--no-batching", help="Call the model once per request (no micro-batching)."
    ),
    reload_interval: float = typer.Option(
        5.0, min=0.01, help="Seconds between registry checks for moved aliases (hot promotion)."
    ),
    canary: list[str] = typer.Option(
        [], "--canary", help="Send a share of a model's traffic to REF: fraud@challenger=0.1"
    ),
    shadow: list[str] = typer.Option(
        [],
        "--shadow",
        help="Mirror a model's traffic to REF (fraud@challenger, or REF=SHARE): outputs are "
        "logged and measured, never returned.",
    ),
    sticky_key: str | None = typer.Option(
        None,
        "--sticky-key",
        help="Assign canary traffic by a hash of header:NAME or field:NAME instead of at random.",
    ),
    log_predictions: bool = typer.Option(
        True,
        "--log-predictions/--no-log-predictions",
        help="Write every prediction to the prediction log (<SHIPYARD_HOME>/predictions).",
    ),
    max_body_mb: float = typer.Option(
        10.0, min=0.001, help="Largest request body in MB (larger ones get 413)."
    ),
    name: str | None = typer.Option(
        None, "--name", help="Model name for a package folder (default: the folder's name)."
    ),
    model_version: int | None = typer.Option(
        None, "--model-version", min=1, help="Version number for a package folder (default 1)."
    ),
    features: str | None = typer.Option(
        None,
        "--features",
        help="A feature service: requests carry entity keys, the server looks features up.",
    ),
) -> None:
    """Serve models over REST: /v1/models/{name}/predict, /invocations, /docs, /metrics."""
    from shipyard.serving.app import ServeOptions
    from shipyard.serving.run import check_models
    from shipyard.serving.run import serve as run_server

    options = ServeOptions(
        max_batch_size=max_batch_size,
        max_wait_ms=max_wait_ms,
        batching=not no_batching,
        reload_interval_s=reload_interval,
        canary=tuple(canary),
        shadow=tuple(shadow),
        sticky_key=sticky_key,
        log_predictions=log_predictions,
        max_body_bytes=int(max_body_mb * 1024 * 1024),
        name=name,
        model_version=model_version,
        feature_service=features,
    )
    shown = ", ".join(f"{ref} (v{version})" for ref, version in check_models(refs, options))
    console.print(
        f"shipyard model server on http://{host}:{port}  serving {shown}  "
        "(docs at /docs, readiness at /health/ready)"
    )
    run_server(refs, host=host, port=port, workers=workers, options=options)


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to ``app``."""
    app.command()(serve)
