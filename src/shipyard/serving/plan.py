"""What a model server serves: its options (:class:`ServeOptions`) and, per model name, the
versions behind it and their traffic policy (:func:`plan_models`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from shipyard.errors import InvalidArgument
from shipyard.serving import policies
from shipyard.serving.batching import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_WAIT_MS
from shipyard.serving.batching import check_batch_options as _check_batching
from shipyard.serving.models import DEFAULT_RELOAD_INTERVAL_S, ModelSource, model_source
from shipyard.serving.requests import DEFAULT_MAX_BODY_BYTES


@dataclass(frozen=True)
class ServeOptions:
    """Everything ``shipyard serve`` can set, as plain (JSON-able) values.

    ``canary`` holds ``REF=SHARE`` texts (``fraud@challenger=0.1``), ``shadow`` ``REF`` or
    ``REF=SHARE``, ``sticky_key`` ``header:NAME`` or ``field:NAME``. ``prediction_log_root``
    defaults to ``<SHIPYARD_HOME>/predictions``. ``name`` and ``model_version`` name the model
    of a package-folder reference (see :func:`~shipyard.serving.models.model_source`).
    ``feature_service`` names a feature service: requests then carry only entity keys (and
    request fields) and the server looks the features up online before predicting.
    """

    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    max_wait_ms: float = DEFAULT_MAX_WAIT_MS
    batching: bool = True
    reload_interval_s: float = DEFAULT_RELOAD_INTERVAL_S
    canary: tuple[str, ...] = ()
    shadow: tuple[str, ...] = ()
    sticky_key: str | None = None
    log_predictions: bool = True
    prediction_log_root: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    allow_pickle: bool = False
    trusted: tuple[str, ...] = ()
    threads: int = 4
    name: str | None = None
    model_version: int | None = None
    feature_service: str | None = None

    def check(self) -> ServeOptions:
        """Return self if every value is usable. Raises InvalidArgument naming the bad one."""
        _check_batching(self.max_batch_size, self.max_wait_ms)
        if not self.reload_interval_s > 0:
            raise InvalidArgument(f"reload interval must be > 0 s, got {self.reload_interval_s}")
        if self.max_body_bytes < 1 or self.threads < 1:
            raise InvalidArgument("max_body_bytes and threads must be at least 1")
        if self.sticky_key is not None:
            policies.parse_sticky_key(self.sticky_key)
        return self

    def to_json(self) -> str:
        """JSON form, handed to worker processes through the environment."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeOptions:
        """Inverse of :meth:`to_json`."""
        data = json.loads(text)
        for key in ("canary", "shadow", "trusted"):
            data[key] = tuple(data.get(key) or ())
        return cls(**data)


@dataclass(frozen=True)
class ServedModel:
    """A model name the server answers for: its primary source and traffic policy."""

    name: str
    primary: str
    policy: policies.TrafficPolicy = field(default_factory=policies.TrafficPolicy)
    sources: tuple[ModelSource, ...] = ()


def plan_models(refs: Sequence[str], options: ServeOptions) -> dict[str, ServedModel]:
    """The served models by name, in the order given, with their canary and shadow.

    Raises InvalidArgument for no reference, a model named twice, a canary/shadow for a model
    that is not served, or a name/version given for anything but one package folder.
    """
    if not refs:
        raise InvalidArgument("serve at least one model, e.g. shipyard serve churn@champion")
    sources = _primary_sources(refs, options)
    plan: dict[str, ServedModel] = {}
    for source in sources:
        if source.name in plan:
            raise InvalidArgument(
                f"model {source.name!r} is named twice ({plan[source.name].primary} and "
                f"{source.ref}); serve a second version with --canary {source.ref}=SHARE or "
                f"--shadow {source.ref}"
            )
        policy = policies.TrafficPolicy(salt=source.name)
        plan[source.name] = ServedModel(source.name, source.ref, policy, (source,))
    for option, texts in (("--canary", options.canary), ("--shadow", options.shadow)):
        for text in texts:
            _add_split(plan, option, text)
    return plan


def _primary_sources(refs: Sequence[str], options: ServeOptions) -> list[ModelSource]:
    name, version = options.name, options.model_version
    sources = [
        model_source(r, name=name, version=version) if _is_folder(r) else model_source(r)
        for r in refs
    ]
    folders = sum(s.path is not None for s in sources)
    if (options.name is not None or options.model_version is not None) and folders != 1:
        raise InvalidArgument(
            "--name and --model-version name the model of one package folder; give exactly one "
            f"folder (got {folders}), or NAME/VERSION for a registered model"
        )
    return sources


def _is_folder(ref: str) -> bool:
    from shipyard.registry.package.model import METADATA_FILE

    return (Path(ref).expanduser() / METADATA_FILE).is_file()


def _add_split(plan: dict[str, ServedModel], option: str, text: str) -> None:
    kind = "canary" if option == "--canary" else "shadow"
    split = policies.parse_split(
        text, option=option, default_share=None if kind == "canary" else 1.0
    )
    served = plan.get(split.name)
    if served is None:
        raise InvalidArgument(
            f"{option} {text}: no served model is named {split.name!r}; serve it too "
            f"(e.g. {split.name}@champion) or fix the name (serving {sorted(plan)})"
        )
    old = served.policy
    policy = policies.TrafficPolicy(
        canary=split if kind == "canary" else old.canary,
        shadow=split if kind == "shadow" else old.shadow,
        salt=old.salt,
    )
    sources = (*served.sources, model_source(split.ref))
    plan[split.name] = ServedModel(served.name, served.primary, policy, sources)
