"""Traffic policies of the model server: canary, shadow and sticky A/B assignment.

Pure functions over plain values, so the shares can be tested statistically:

* **canary** — a share of a model's requests goes to a challenger version (``--canary
  fraud@challenger=0.1``): :func:`route` returns :data:`CHALLENGER` for about that share;
* **shadow** — every request (or a share) is also sent to a challenger whose outputs are only
  logged and measured, never returned (``--shadow fraud@challenger``): :func:`mirror`;
* **sticky** — with a request key (a header or a field, ``--sticky-key header:X-User-Id``) the
  draw is a hash of the key instead of a random number, so one user always lands on the same
  side, in every worker process and across restarts.

>>> policy = TrafficPolicy(canary=Split("fraud@challenger", 0.1))
>>> route(policy, key="user-42", rng=random.Random(0)) == route(policy, key="user-42")
True
>>> bucket("user-42", salt="fraud") == bucket("user-42", salt="fraud")
True
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Literal

from shipyard.errors import InvalidArgument

Role = Literal["primary", "challenger"]
PRIMARY: Role = "primary"
CHALLENGER: Role = "challenger"
_HASH_SPACE = float(2**64)


@dataclass(frozen=True)
class Split:
    """A challenger model reference (``fraud@challenger``) and the share of traffic it gets."""

    ref: str
    share: float = 1.0

    @property
    def name(self) -> str:
        """The model name the reference belongs to (``fraud``)."""
        return _ref_name(self.ref)


@dataclass(frozen=True)
class StickyKey:
    """Where a request's assignment key comes from: a header or a field of the first row."""

    source: Literal["header", "field"]
    name: str

    def __str__(self) -> str:
        return f"{self.source}:{self.name}"


@dataclass(frozen=True)
class TrafficPolicy:
    """How one served model's traffic is shared: an optional canary and an optional shadow."""

    canary: Split | None = None
    shadow: Split | None = None
    salt: str = ""


def bucket(key: str, *, salt: str = "") -> float:
    """A stable number in [0, 1) for ``key``: the same in every process and release.

    ``salt`` (the model name) keeps assignments of different experiments independent.
    """
    digest = hashlib.blake2b(f"{salt}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _HASH_SPACE


def draw(key: str | None, *, salt: str = "", rng: random.Random | None = None) -> float:
    """The number a routing decision compares with a share: hashed from ``key``, else random."""
    if key is not None:
        return bucket(key, salt=salt)
    return (rng or random).random()


def route(
    policy: TrafficPolicy, *, key: str | None = None, rng: random.Random | None = None
) -> Role:
    """Which side serves a request: :data:`CHALLENGER` for the canary's share, else primary."""
    canary = policy.canary
    if canary is None or canary.share <= 0.0:
        return PRIMARY
    return CHALLENGER if draw(key, salt=policy.salt, rng=rng) < canary.share else PRIMARY


def mirror(policy: TrafficPolicy, *, rng: random.Random | None = None) -> bool:
    """Whether a request is also sent to the shadow (always, for the default share 1.0)."""
    shadow = policy.shadow
    if shadow is None or shadow.share <= 0.0:
        return False
    return shadow.share >= 1.0 or (rng or random).random() < shadow.share


def parse_split(text: str, *, option: str, default_share: float | None = None) -> Split:
    """Parse ``NAME@ALIAS=SHARE`` (or ``NAME/VERSION=SHARE``) as given to ``--canary``.

    Without ``=SHARE``, ``default_share`` applies (``--shadow`` mirrors everything by default);
    when it is None the share is required. Raises InvalidArgument naming the option and the fix.
    """
    ref, sep, share_text = text.rpartition("=")
    if not sep:
        ref, share_text = text, ""
    if not share_text:
        if default_share is None:
            raise InvalidArgument(
                f"{option} {text!r} needs a share: write REF=SHARE, e.g. fraud@challenger=0.1"
            )
        return Split(_check_ref(ref, option), default_share)
    try:
        share = float(share_text)
    except ValueError:
        share = -1.0
    if not 0.0 <= share <= 1.0:
        raise InvalidArgument(
            f"{option} {text!r}: the share {share_text!r} must be a number from 0 to 1, "
            "e.g. fraud@challenger=0.1 for 10% of the traffic"
        )
    return Split(_check_ref(ref, option), share)


def parse_sticky_key(text: str) -> StickyKey:
    """Parse ``header:NAME`` or ``field:NAME`` (a bare ``NAME`` is a header).

    Raises InvalidArgument for an empty name or an unknown source.
    """
    source, sep, name = text.partition(":")
    if not sep:
        source, name = "header", text
    name = name.strip()
    if source not in ("header", "field") or not name:
        raise InvalidArgument(
            f"--sticky-key {text!r} must be header:NAME or field:NAME, e.g. header:X-User-Id "
            "or field:customer_id"
        )
    return StickyKey("header" if source == "header" else "field", name)


def _check_ref(ref: str, option: str) -> str:
    from shipyard.registry.uri import parse_model_ref

    try:
        return str(parse_model_ref(ref))
    except InvalidArgument as exc:
        raise InvalidArgument(f"{option} {ref!r}: {exc}") from exc


def _ref_name(ref: str) -> str:
    from shipyard.registry.uri import parse_model_ref

    return parse_model_ref(ref).name


__all__ = [
    "CHALLENGER",
    "PRIMARY",
    "Role",
    "Split",
    "StickyKey",
    "TrafficPolicy",
    "bucket",
    "draw",
    "mirror",
    "parse_split",
    "parse_sticky_key",
    "route",
]
