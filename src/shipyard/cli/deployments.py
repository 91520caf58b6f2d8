"""``shipyard deploy`` and ``shipyard deployments``: the record of what is in service."""

from __future__ import annotations

import typer
from rich.table import Table

from shipyard.cli._common import console, fmt_time, handle_errors

app = typer.Typer(help="Deployments: which model version serves where, with which policy.")


def _split(text: str, option: str) -> tuple[str, float]:
    ref, sep, share = text.rpartition("=")
    if not sep or not ref:
        raise typer.BadParameter(f"{option} takes REF=SHARE, e.g. churn@challenger=0.1")
    try:
        return ref, float(share)
    except ValueError:
        raise typer.BadParameter(f"{option} takes REF=SHARE, e.g. churn@challenger=0.1") from None


def deploy(
    ref: str = typer.Argument(..., help="the model version: NAME@ALIAS or NAME/VERSION"),
    name: str | None = typer.Option(None, "--name", help="deployment name (default: model's)"),
    canary: str | None = typer.Option(None, "--canary", help="REF=SHARE to a challenger"),
    shadow: str | None = typer.Option(None, "--shadow", help="REF mirrored, answers only logged"),
    sticky: str | None = typer.Option(None, "--sticky", help="REF=SHARE split by --sticky-key"),
    sticky_key: str | None = typer.Option(None, "--sticky-key", help="request field or header"),
    target: str = typer.Option("local", "--target", help="local, kubernetes, container, batch"),
    endpoint: str = typer.Option("", "--endpoint", help="where it answers, e.g. its URL"),
    features: str | None = typer.Option(None, "--features", help="feature service it looks up"),
    note: str = typer.Option("", "--note"),
) -> None:
    """Record that a model version was put into service (lineage: who, when, which policy)."""
    from shipyard.serving.deployments.entities import Policy
    from shipyard.serving.fluent import deploy as run

    if sum(x is not None for x in (canary, shadow, sticky)) > 1:
        raise typer.BadParameter("give at most one of --canary, --shadow, --sticky")
    policy = Policy()
    if canary is not None:
        challenger, share = _split(canary, "--canary")
        policy = Policy("canary", challenger, share)
    elif shadow is not None:
        policy = Policy("shadow", shadow)
    elif sticky is not None:
        challenger, share = _split(sticky, "--sticky")
        policy = Policy("sticky", challenger, share, sticky_key)
    d = run(
        ref,
        name=name,
        policy=policy,
        target=target,
        endpoint=endpoint,
        feature_service=features,
        note=note,
    )
    console.print(
        f"deployment #{d.id} [bold]{d.name}[/bold]: {d.model}/{d.version} ({d.ref}) · "
        f"{_policy(d.policy)} · {d.target}" + (f" · {d.endpoint}" if d.endpoint else "")
    )


def _policy(policy: object) -> str:
    from shipyard.serving.deployments.entities import Policy

    assert isinstance(policy, Policy)
    if policy.kind == "single":
        return "single version"
    if policy.kind == "shadow":
        return f"shadow {policy.challenger}"
    extra = f" by {policy.key}" if policy.key else ""
    return f"{policy.kind} {policy.share:.0%} to {policy.challenger}{extra}"


@app.command("list")
@handle_errors
def list_(
    name: str | None = typer.Option(None, "--name"),
    model: str | None = typer.Option(None, "--model"),
) -> None:
    """List recorded deployments, newest first."""
    from shipyard.serving.fluent import list_deployments

    table = Table()
    for col in ("#", "name", "model", "ref", "policy", "target", "endpoint", "by", "when"):
        table.add_column(col)
    for d in list_deployments(name=name, model=model):
        table.add_row(
            str(d.id), d.name, f"{d.model}/{d.version}", d.ref, _policy(d.policy), d.target,
            d.endpoint, d.user, fmt_time(d.created_at),
        )  # fmt: skip
    console.print(table)


@app.command()
@handle_errors
def show(deployment_id: int) -> None:
    """One deployment."""
    from shipyard.tracking.fluent import services

    d = services().deployments.get(deployment_id)
    console.print(
        f"deployment #{d.id} [bold]{d.name}[/bold]: {d.model}/{d.version} from {d.ref} · "
        f"{_policy(d.policy)} · {d.target} {d.endpoint} · by {d.user} · {fmt_time(d.created_at)}"
    )
    if d.feature_service:
        console.print(f"feature service: {d.feature_service}")
    if d.note:
        console.print(d.note)


def register(root: typer.Typer) -> None:
    """Add ``deploy`` and the ``deployments`` group to the root app."""
    root.command("deploy")(handle_errors(deploy))
    root.add_typer(app, name="deployments")
