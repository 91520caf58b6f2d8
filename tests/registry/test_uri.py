"""The model reference grammar, and resolving references against a real registry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from shipyard.errors import InvalidArgument, NotFound
from shipyard.registry.sql import SqlRegistry
from shipyard.registry.uri import ModelRef, check_alias, parse_model_ref, resolve_ref
from shipyard.store import Database
from shipyard.store import schema as s

RUN = "c" * 32


@pytest.mark.parametrize(
    ("text", "expected", "cli"),
    [
        ("churn", ModelRef("churn"), "churn@latest"),
        ("churn@latest", ModelRef("churn"), "churn@latest"),
        ("churn@LATEST", ModelRef("churn"), "churn@latest"),
        ("churn/3", ModelRef("churn", version=3), "churn/3"),
        ("churn@champion", ModelRef("churn", alias="champion"), "churn@champion"),
        ("models:/churn@champion", ModelRef("churn", alias="champion"), "churn@champion"),
        ("models:/churn/12", ModelRef("churn", version=12), "churn/12"),
        ("models:/churn", ModelRef("churn"), "churn@latest"),
        ("  churn-v2.1/4 ", ModelRef("churn-v2.1", version=4), "churn-v2.1/4"),
        ("churn@v3", ModelRef("churn", alias="v3"), "churn@v3"),
    ],
)
def test_parse_model_ref(text: str, expected: ModelRef, cli: str) -> None:
    ref = parse_model_ref(text)
    assert ref == expected
    assert str(ref) == cli
    assert ref.uri == f"models:/{cli}"
    assert parse_model_ref(str(ref)) == ref == parse_model_ref(ref.uri)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "invalid model reference ''"),
        ("models:/", "invalid model reference 'models:/'"),
        ("churn/", "version '' must be a whole number"),
        ("churn@", "alias name '' is invalid"),
        ("churn/x", "version 'x' must be a whole number"),
        ("churn/0", "version '0' must be a whole number from 1"),
        ("churn/-1", "version '-1'"),
        ("churn/٣", "version '٣'"),
        ("churn@3", "'3' is a number, not an alias: write NAME/3"),
        ("churn/3/4", "invalid model reference 'churn/3/4'"),
        ("churn@a@b", "invalid model reference 'churn@a@b'"),
        ("churn/3@a", "invalid model reference 'churn/3@a'"),
        ("chu rn", "model name 'chu rn' is invalid"),
        ("models://churn", "invalid model reference 'models://churn'"),
        ("/churn", "model name '' is invalid"),
        ("models:churn", "model name 'models:churn' is invalid"),
        ("churn@bad alias", "alias name 'bad alias' is invalid"),
    ],
)
def test_parse_model_ref_rejects_bad_text(text: str, why: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        parse_model_ref(text)
    message = str(err.value)
    assert why in message
    assert "churn/3" in message and "churn@champion" in message  # the grammar, with examples


def test_parse_model_ref_rejects_non_string() -> None:
    with pytest.raises(InvalidArgument, match="must be a string, got 3"):
        parse_model_ref(3)  # type: ignore[arg-type]


def test_model_ref_at() -> None:
    ref = parse_model_ref("churn@champion", at=1234)
    assert ref == ModelRef("churn", alias="champion", at=1234)
    assert not ref.is_latest and parse_model_ref("churn").is_latest
    with pytest.raises(InvalidArgument, match="'at' only applies to an alias"):
        parse_model_ref("churn/3", at=1234)
    with pytest.raises(InvalidArgument, match="'at' only applies to an alias"):
        parse_model_ref("churn@latest", at=1234)
    with pytest.raises(InvalidArgument, match="names both version 3 and alias 'x'"):
        ModelRef("churn", version=3, alias="x")


def test_check_alias() -> None:
    assert check_alias("champion") == "champion"
    assert check_alias("v3") == "v3"
    with pytest.raises(InvalidArgument, match=r"all digits.*NAME@12 vs NAME/12.*'v12'"):
        check_alias("12")
    with pytest.raises(InvalidArgument, match="reserved"):
        check_alias("latest")
    with pytest.raises(InvalidArgument, match="alias name"):
        check_alias("a/b")


@pytest.fixture
def reg(db_url: str) -> Iterator[SqlRegistry]:
    db = Database(db_url)
    with db.begin() as conn:
        exp = conn.execute(
            sa.insert(s.experiments).values(name="e", created_at=1, updated_at=1)
        ).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(
            sa.insert(s.runs).values(
                run_id=RUN,
                experiment_id=exp,
                name="r",
                status="FINISHED",
                user="u",
                start_time=1,
                heartbeat_at=1,
            )
        )
        conn.execute(
            sa.insert(s.artifacts).values(
                owner=f"run:{RUN}", path="model/m.skops", sha256="0" * 64, size=1, created_at=1
            )
        )
    yield SqlRegistry(db)
    db.dispose()


def test_resolve_ref(reg: SqlRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    import shipyard.registry.sql as regsql

    for _ in range(3):
        reg.create_version("churn", run_id=RUN, artifact_path="model", flavor="sklearn")
    monkeypatch.setattr(regsql, "now_ms", lambda: 1000)
    reg.set_alias("churn", "champion", 1)
    monkeypatch.setattr(regsql, "now_ms", lambda: 2000)
    reg.set_alias("churn", "champion", 2)

    assert resolve_ref(reg, "churn").version == 3
    assert resolve_ref(reg, "models:/churn@latest").version == 3
    assert resolve_ref(reg, "churn/1").version == 1
    assert resolve_ref(reg, "models:/churn@champion").version == 2
    assert resolve_ref(reg, parse_model_ref("churn@champion", at=1500)).version == 1
    assert resolve_ref(reg, ModelRef("churn", version=3)).version == 3
    with pytest.raises(NotFound, match="has no version 9; versions: 1, 2, 3"):
        resolve_ref(reg, "churn/9")
    with pytest.raises(NotFound, match="has no alias 'prod'"):
        resolve_ref(reg, "churn@prod")
    with pytest.raises(NotFound, match="did you mean 'churn'"):
        resolve_ref(reg, "chrun@champion")
    with pytest.raises(InvalidArgument, match="NAME/VERSION, NAME@ALIAS"):
        resolve_ref(reg, "churn@")
