"""``shipyard build`` (Docker context + Kubernetes manifests) and ``shipyard export`` (ONNX)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from shipyard.cli._common import console, err_console, handle_errors

if TYPE_CHECKING:
    from rich.console import Console

    from shipyard.serving.build import BuildContext
    from shipyard.serving.export import ExportResult, ParityReport

REF_HELP = "The model: NAME@ALIAS, NAME/VERSION or NAME (newest)."


def register(app: typer.Typer) -> None:
    """Add ``build`` and ``export`` to the ``shipyard`` app."""
    app.command("build")(build)
    app.command("export")(export)


@handle_errors
def build(
    ref: str = typer.Argument(..., help=REF_HELP),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the build context to."),
    image: str | None = typer.Option(
        None, help="Image name for the manifests [default: shipyard-NAME:VERSION]."
    ),
    replicas: int = typer.Option(2, help="Pods to run (the autoscaler's minimum)."),
    max_replicas: int | None = typer.Option(
        None, help="Autoscaler's maximum [default: max(10, replicas)]."
    ),
    port: int = typer.Option(8000, help="Port the server listens on in the container."),
    cpu: str = typer.Option("250m", help="CPU request per pod."),
    memory: str = typer.Option("512Mi", help="Memory request per pod."),
    cpu_limit: str = typer.Option("1", help="CPU limit per pod."),
    memory_limit: str = typer.Option("1Gi", help="Memory limit per pod."),
    cpu_target: int = typer.Option(70, help="Autoscale at this average CPU use (% of request)."),
    base_image: str | None = typer.Option(
        None, help="Base image [default: python:<this Python's version>-slim]."
    ),
    wheel: Path | None = typer.Option(
        None, help="A prebuilt Shipyard wheel to bundle instead of building one."
    ),
    force: bool = typer.Option(False, "--force", help="Replace an earlier build context at --out."),
) -> None:
    """Write a Docker build context and Kubernetes manifests that serve one model version.

    The model package is copied in, so the container needs no registry. Build and deploy:
    docker build -t IMAGE OUT && kubectl apply -f OUT/k8s/
    """
    from shipyard.serving.build import Resources, build_context

    with console.status(f"Building the context for {ref} (model, requirements, wheel)…"):
        context = build_context(
            ref,
            out,
            image=image,
            port=port,
            replicas=replicas,
            max_replicas=max_replicas,
            cpu_target=cpu_target,
            resources=Resources(cpu, memory, cpu_limit, memory_limit),
            base_image=base_image,
            wheel=wheel,
            force=force,
        )
    _show_context(context)


def _show_context(context: BuildContext) -> None:
    console.print(
        f"[bold]{context.model}/{context.version}[/bold] → {context.path}  "
        f"({len(context.requirements)} pinned requirements, shipyard from "
        f"{context.shipyard_source})"
    )
    table = Table(show_header=False, box=None, padding=(0, 2))
    for rel in context.files:
        if not rel.startswith("model/"):
            table.add_row(rel)
    table.add_row("model/  (the model package)")
    console.print(table)
    console.print("Next:")
    console.print(f"  docker build -t {context.image} {context.path}")
    console.print(f"  docker run --rm -p {context.port}:{context.port} {context.image}")
    console.print(f"  kubectl apply -f {context.path / 'k8s'}")


@handle_errors
def export(
    ref: str = typer.Argument(..., help=REF_HELP),
    fmt: str = typer.Option("onnx", "--format", "-f", help="Export format (onnx)."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="File to write [default: NAME-VERSION.onnx]."
    ),
    check_data: Path | None = typer.Option(
        None,
        "--check-data",
        help="Rows for the parity check (.csv, .parquet, .json, .jsonl) [default: the "
        "package's input example].",
    ),
    tolerance: float = typer.Option(
        1e-4, help="Largest difference allowed between ONNX and scikit-learn."
    ),
    no_check: bool = typer.Option(False, "--no-check", help="Skip the parity check."),
    allow_pickle: bool = typer.Option(
        False, "--allow-pickle", help="Load a pickled package (only if you trust it)."
    ),
    trust: list[str] = typer.Option([], "--trust", help="A type the package may load (repeat)."),
) -> None:
    """Export a scikit-learn model to ONNX and check it against scikit-learn.

    The parity report (max difference, label agreement) is printed and written beside the
    file as NAME.parity.json; the command fails when ONNX and scikit-learn disagree beyond
    --tolerance, and then writes no model file.
    """
    from shipyard.serving.export import FORMATS, ParityError, export_onnx

    if fmt not in FORMATS:
        raise typer.BadParameter(f"format {fmt!r} is not supported; use one of {list(FORMATS)}")
    try:
        result = export_onnx(
            ref,
            out,
            check_data=check_data,
            check=not no_check,
            tolerance=tolerance,
            allow_pickle=allow_pickle,
            trusted=trust,
        )
    except ParityError as exc:
        if exc.report is not None:
            _print_parity(err_console, exc.report)
        raise
    _show_export(result)


def _show_export(result: ExportResult) -> None:
    console.print(
        f"[bold]{result.model}/{result.version}[/bold] → {result.path}  ({result.precision} "
        f"inputs: {', '.join(str(i['name']) for i in result.inputs[:6])}"
        + (" …" if len(result.inputs) > 6 else "")
        + ")"
    )
    if result.parity is None:
        console.print("[yellow]parity not checked[/yellow] (--no-check)")
        return
    _print_parity(console, result.parity)
    console.print(f"report: {result.report_path}")


def _print_parity(out: Console, report: ParityReport) -> None:
    status = "[green]passed[/green]" if report.passed else "[red]failed[/red]"
    out.print(f"ONNX parity vs scikit-learn: {status}")
    table = Table()
    table.add_column("check")
    table.add_column("value", justify="right")
    table.add_row("rows", str(report.rows))
    table.add_row("max abs diff", f"{report.max_abs_diff:.3g}")
    if report.max_rel_diff is not None:
        table.add_row("max diff / max(1, |value|)", f"{report.max_rel_diff:.3g}")
    if report.label_agreement is not None:
        table.add_row("label agreement", f"{report.label_agreement:.2%}")
    table.add_row("tolerance", f"{report.tolerance:g}")
    out.print(table)
