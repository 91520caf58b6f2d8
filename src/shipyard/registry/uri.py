"""The one grammar for naming a model version, on the command line and in code.

``NAME`` (the newest version), ``NAME/VERSION``, ``NAME@ALIAS`` and ``NAME@latest``, each also
as a URI with ``models:/`` in front (``models:/churn@champion``). An alias is never all digits
(``churn@3`` would read like version 3) and ``latest`` is reserved for the newest version.

>>> ref = parse_model_ref("models:/churn@champion")
>>> ref.name, ref.alias, str(ref)
('churn', 'champion', 'churn@champion')
>>> parse_model_ref("churn/3").version
3
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipyard._util import check_name
from shipyard.errors import InvalidArgument

if TYPE_CHECKING:
    from shipyard.registry.entities import ModelVersion
    from shipyard.registry.service import RegistryService

SCHEME = "models:/"
LATEST = "latest"

_REF = re.compile(r"(?P<name>[^/@]*)(?:/(?P<version>[^/@]*)|@(?P<alias>[^/@]*))?")
_GRAMMAR = (
    "use NAME (newest version), NAME/VERSION, NAME@ALIAS or NAME@latest, optionally as a URI "
    "with 'models:/' in front, e.g. churn, churn/3, churn@champion, models:/churn@champion"
)


def check_alias(alias: object) -> str:
    """Validate an alias someone wants to set: a name, not all digits, not ``latest``.

    Returns the alias. Raises InvalidArgument saying why and what to use instead.

    >>> check_alias("champion")
    'champion'
    """
    alias = check_name(alias, "alias")
    if alias.isdigit():
        raise InvalidArgument(
            f"alias {alias!r} is all digits, which would be ambiguous with version {alias} "
            f"(NAME@{alias} vs NAME/{alias}); use a name with a letter in it, e.g. 'v{alias}'"
        )
    if alias.lower() == LATEST:
        raise InvalidArgument(
            f"alias {alias!r} is reserved: NAME@latest always means the newest non-deleted "
            "version; choose another alias name, e.g. 'champion' or 'production'"
        )
    return alias


@dataclass(frozen=True)
class ModelRef:
    """A reference to one model version: by number, by alias, or the newest (neither).

    ``at`` (ms since the epoch) asks for the version an alias pointed to at that time.
    """

    name: str
    version: int | None = None
    alias: str | None = None
    at: int | None = None

    def __post_init__(self) -> None:
        if self.version is not None and self.alias is not None:
            raise InvalidArgument(
                f"model reference to {self.name!r} names both version {self.version} and alias "
                f"{self.alias!r}; give one of them"
            )
        if self.at is not None and (self.alias is None or self.alias == LATEST):
            raise InvalidArgument(
                f"model reference to {self.name!r}: 'at' only applies to an alias "
                "(e.g. churn@champion as it was at a time), not to a version number or latest"
            )

    def __str__(self) -> str:
        """The command-line form: ``churn/3``, ``churn@champion`` or ``churn@latest``."""
        if self.version is not None:
            return f"{self.name}/{self.version}"
        return f"{self.name}@{self.alias or LATEST}"

    @property
    def uri(self) -> str:
        """The URI form used in code: ``models:/churn@champion``."""
        return f"{SCHEME}{self}"

    @property
    def is_latest(self) -> bool:
        """True when this names the newest non-deleted version rather than a fixed one."""
        return self.version is None and self.alias in (None, LATEST)


def parse_model_ref(text: str, *, at: int | None = None) -> ModelRef:
    """Parse ``churn``, ``churn/3``, ``churn@champion`` or ``models:/…`` into a :class:`ModelRef`.

    ``at`` (ms) is attached to an alias reference. ``churn@latest`` and ``churn`` both give
    ``alias=None`` (the newest version). Raises InvalidArgument explaining the grammar.

    >>> parse_model_ref("churn")
    ModelRef(name='churn', version=None, alias=None, at=None)
    """
    if not isinstance(text, str):
        raise InvalidArgument(f"model reference must be a string, got {text!r}; {_GRAMMAR}")
    body = text.strip()
    if body.startswith(SCHEME):
        body = body[len(SCHEME) :]
    match = _REF.fullmatch(body)
    if match is None or not body:
        raise InvalidArgument(f"invalid model reference {text!r}; {_GRAMMAR}")
    name, version, alias = match.group("name", "version", "alias")
    try:
        check_name(name, "model")
        number = _parse_version(version)
        alias = _parse_alias(alias)
    except InvalidArgument as exc:
        raise InvalidArgument(f"invalid model reference {text!r}: {exc}; {_GRAMMAR}") from exc
    return ModelRef(name=name, version=number, alias=alias, at=at)


def _parse_version(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise InvalidArgument(f"version {text!r} must be a whole number from 1 up")
    return int(text)


def _parse_alias(text: str | None) -> str | None:
    if text is None or text.lower() == LATEST:
        return None
    if text.isdigit():
        raise InvalidArgument(f"{text!r} is a number, not an alias: write NAME/{text}")
    return check_name(text, "alias")


def resolve_ref(registry: RegistryService, ref: ModelRef | str) -> ModelVersion:
    """The model version ``ref`` names, looked up in ``registry``.

    Raises InvalidArgument (bad text) and NotFound (model, version or alias missing, or the
    version deleted).
    """
    if not isinstance(ref, ModelRef):
        ref = parse_model_ref(ref)
    return registry.resolve(ref.name, version=ref.version, alias=ref.alias, at=ref.at)


__all__ = ["LATEST", "SCHEME", "ModelRef", "check_alias", "parse_model_ref", "resolve_ref"]
