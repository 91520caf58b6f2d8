"""What the deployment service hands out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shipyard.errors import InvalidArgument

POLICY_KINDS = ("single", "canary", "shadow", "sticky")
TARGETS = ("local", "kubernetes", "container", "batch")


@dataclass(frozen=True)
class Policy:
    """How traffic is split: ``single`` (one version), ``canary`` (``share`` of requests to the
    challenger), ``shadow`` (every request mirrored to the challenger, its answers only logged)
    or ``sticky`` (an A/B split by a hash of the request key ``key``, ``share`` to the challenger).
    """

    kind: str = "single"
    challenger: str | None = None
    share: float = 0.0
    key: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in POLICY_KINDS:
            raise InvalidArgument(f"policy {self.kind!r} is not one of {list(POLICY_KINDS)}")
        if self.kind == "single":
            if self.challenger is not None:
                raise InvalidArgument("a single-version policy has no challenger")
            return
        if not self.challenger:
            raise InvalidArgument(f"a {self.kind} policy needs a challenger model reference")
        if self.kind in ("canary", "sticky") and not 0.0 < self.share < 1.0:
            raise InvalidArgument(
                f"a {self.kind} share must be between 0 and 1, not {self.share!r}"
            )
        if self.kind == "sticky" and not self.key:
            raise InvalidArgument("a sticky A/B policy needs the request key it hashes (key=...)")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "challenger": self.challenger,
            "share": self.share,
            "key": self.key,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        unknown = sorted(set(data) - {"kind", "challenger", "share", "key"})
        if unknown:
            raise InvalidArgument(f"unknown policy field(s) {unknown}")
        return cls(
            kind=str(data.get("kind", "single")),
            challenger=data.get("challenger"),
            share=float(data.get("share") or 0.0),
            key=data.get("key"),
        )


@dataclass(frozen=True)
class Deployment:
    """One model version put into service: under ``name``, from ``ref`` (as asked, e.g.
    ``churn@champion``), with ``policy``, on ``target`` at ``endpoint``, by ``user``."""

    id: int
    name: str
    model: str
    version: int
    ref: str
    policy: Policy
    target: str
    endpoint: str
    user: str
    created_at: int
    feature_service: str | None = None
    note: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
