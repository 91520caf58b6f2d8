"""A validation suite: a name and an ordered list of uniquely named rules, from YAML or Python."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.data.validation.rules import Rule, rule_from_dict
from shipyard.errors import InvalidArgument

__all__ = ["Suite"]


@dataclass(frozen=True)
class Suite:
    """A named, ordered set of rules whose names are unique.

    >>> from shipyard.data.validation.rules import NotNull
    >>> Suite("s", (NotNull(name="id_present", column="id"),)).to_dict()["rules"][0]["type"]
    'not_null'
    """

    name: str
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidArgument(f"a suite needs a non-empty name, not {self.name!r}")
        rules = tuple(self.rules)
        for rule in rules:
            if not isinstance(rule, Rule):
                raise InvalidArgument(f"suite {self.name!r}: {rule!r} is not a validation rule")
        seen: set[str] = set()
        for rule in rules:
            if rule.name in seen:
                raise InvalidArgument(
                    f"suite {self.name!r}: rule name {rule.name!r} is used twice; names are unique"
                )
            seen.add(rule.name)
        object.__setattr__(self, "rules", rules)

    def to_dict(self) -> dict[str, Any]:
        """The suite as plain data (what ``from_dict`` reads back)."""
        return {"name": self.name, "rules": [r.to_dict() for r in self.rules]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Suite:
        """The suite described by ``{"name": ..., "rules": [{"type": ..., ...}, ...]}``.

        Raises:
            InvalidArgument: the data is not a suite or a rule is invalid.
        """
        if not isinstance(data, Mapping):
            raise InvalidArgument(f"a suite must be a mapping, not {type(data).__name__}")
        unknown = sorted(set(data) - {"name", "rules"})
        if unknown:
            raise InvalidArgument(f"unknown suite field(s) {unknown}; valid fields: name, rules")
        rules = data.get("rules")
        if not isinstance(rules, Sequence) or isinstance(rules, str):
            raise InvalidArgument("a suite needs 'rules': a list of rule mappings")
        return cls(str(data.get("name", "")), tuple(rule_from_dict(r) for r in rules))

    @classmethod
    def from_yaml(cls, source: str | Path) -> Suite:
        """The suite in YAML text, or in the YAML file at ``source`` (a ``Path`` or a path string
        ending in .yaml/.yml).

        Raises:
            InvalidArgument: the YAML does not parse or does not describe a valid suite.
            NotFound: the file does not exist.
        """
        import yaml

        text = _read(source)
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidArgument(f"the suite is not valid YAML: {exc}") from exc
        return cls.from_dict(data)


def _read(source: str | Path) -> str:
    from shipyard.errors import NotFound

    is_path = isinstance(source, Path) or (
        "\n" not in source and source.strip().endswith((".yaml", ".yml"))
    )
    if not is_path:
        return str(source)
    path = Path(source)
    if not path.is_file():
        raise NotFound(f"suite file {str(path)!r} does not exist")
    return path.read_text(encoding="utf-8")
