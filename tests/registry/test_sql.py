"""SqlRegistry on real SQLite and PostgreSQL: every method, every error path, concurrency."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

import shipyard.registry.sql as regsql
from shipyard._util import current_user
from shipyard.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from shipyard.registry.entities import AliasEvent
from shipyard.registry.sql import SqlRegistry
from shipyard.store import Database
from shipyard.store import schema as s

RUN = "a" * 32
OTHER_RUN = "b" * 32
# path -> (sha256, size) of the run's artifact rows
FILES = {
    "model/model.skops": ("1" * 64, 10),
    "model/MLmodel": ("2" * 64, 20),
    "model/sub/conda.yaml": ("3" * 64, 30),
    "model_extra/x.txt": ("4" * 64, 40),
    "my_model/a.bin": ("5" * 64, 50),
    "myxmodel/b.bin": ("6" * 64, 60),
    "data/train.csv": ("7" * 64, 70),
}
REGISTRY_TABLES = (
    s.registered_models,
    s.registered_model_tags,
    s.model_versions,
    s.model_version_tags,
    s.model_aliases,
    s.alias_events,
    s.artifacts,
)


def seed(db: Database) -> None:
    """An experiment, two runs, and artifact rows for the first run, written directly."""
    with db.begin() as conn:
        exp_id = conn.execute(
            sa.insert(s.experiments).values(name="exp", created_at=1, updated_at=1)
        ).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(
            sa.insert(s.runs),
            [
                {
                    "run_id": run_id,
                    "experiment_id": exp_id,
                    "name": run_id[:4],
                    "status": "FINISHED",
                    "user": "tester",
                    "start_time": 1,
                    "heartbeat_at": 1,
                }
                for run_id in (RUN, OTHER_RUN)
            ],
        )
        conn.execute(
            sa.insert(s.artifacts),
            [
                {"owner": f"run:{RUN}", "path": p, "sha256": h, "size": n, "created_at": 1}
                for p, (h, n) in FILES.items()
            ],
        )


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.read() as conn:
        return {
            t.name: sorted(tuple(r) for r in conn.execute(sa.select(t)).all())
            for t in REGISTRY_TABLES
        }


@contextmanager
def unchanged(db: Database) -> Iterator[None]:
    """Assert that nothing in the registry tables or the artifact catalog changes."""
    before = snapshot(db)
    yield
    assert snapshot(db) == before


def owner_files(db: Database, owner: str) -> dict[str, tuple[str, int]]:
    with db.read() as conn:
        rows = conn.execute(
            sa.select(s.artifacts.c.path, s.artifacts.c.sha256, s.artifacts.c.size).where(
                s.artifacts.c.owner == owner
            )
        ).all()
    return {p: (h, n) for p, h, n in rows}


class Clock:
    """A settable replacement for ``now_ms`` in the registry module."""

    def __init__(self, t: int = 1_000) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    seed(database)
    yield database
    database.dispose()


@pytest.fixture
def reg(db: Database) -> SqlRegistry:
    return SqlRegistry(db)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clk = Clock()
    monkeypatch.setattr(regsql, "now_ms", clk)
    return clk


def register(reg: SqlRegistry, name: str = "churn", **kw: Any) -> int:
    kw.setdefault("run_id", RUN)
    kw.setdefault("artifact_path", "model")
    kw.setdefault("flavor", "sklearn")
    return reg.create_version(name, **kw).version


# --- create_version -----------------------------------------------------------------------------


def test_create_version_creates_model_and_shares_files(reg: SqlRegistry, db: Database) -> None:
    mv = reg.create_version(
        "churn",
        run_id=RUN,
        artifact_path="model",
        flavor="sklearn",
        signature={"inputs": [{"name": "age", "type": "long"}], "outputs": None},
        metrics={"auc": 0.91, "n": 3},
        description="first",
        tags={"team": "growth"},
    )
    assert (mv.name, mv.version, mv.run_id, mv.flavor) == ("churn", 1, RUN, "sklearn")
    assert mv.source == f"runs:/{RUN}/model"
    assert mv.user == current_user()
    assert mv.signature == {"inputs": [{"name": "age", "type": "long"}], "outputs": None}
    assert mv.metrics == {"auc": 0.91, "n": 3.0}
    assert mv.tags == {"team": "growth"} and mv.aliases == () and not mv.deleted
    assert reg.get_version("churn", 1) == mv
    model = reg.get_model("churn")
    assert model.latest_version == 1 and model.description == ""
    assert owner_files(db, "model:churn/1") == {
        "model.skops": FILES["model/model.skops"],
        "MLmodel": FILES["model/MLmodel"],
        "sub/conda.yaml": FILES["model/sub/conda.yaml"],
    }
    assert len(owner_files(db, f"run:{RUN}")) == len(FILES)  # the run keeps its rows


def test_artifact_path_is_a_folder_prefix_matched_literally(reg: SqlRegistry, db: Database) -> None:
    # '_' is a LIKE wildcard: "my_model/" must not match "myxmodel/b.bin"
    assert register(reg, artifact_path="my_model") == 1
    assert owner_files(db, "model:churn/1") == {"a.bin": FILES["my_model/a.bin"]}
    # slashes around the path are ignored; "model" does not take "model_extra/"
    assert register(reg, artifact_path="/model/") == 2
    assert set(owner_files(db, "model:churn/2")) == {"model.skops", "MLmodel", "sub/conda.yaml"}
    assert reg.get_version("churn", 2).source == f"runs:/{RUN}/model"
    # a sub-folder works too
    assert register(reg, artifact_path="model/sub") == 3
    assert owner_files(db, "model:churn/3") == {"conda.yaml": FILES["model/sub/conda.yaml"]}


def test_create_version_unknown_run(reg: SqlRegistry, db: Database) -> None:
    with unchanged(db), pytest.raises(NotFound, match=r"run 'nope' does not exist"):
        register(reg, run_id="nope")


def test_create_version_no_files_under_path(reg: SqlRegistry, db: Database) -> None:
    with unchanged(db), pytest.raises(NotFound) as err:
        register(reg, artifact_path="modle")
    assert RUN in str(err.value) and "'modle/'" in str(err.value)
    assert "data, model, model_extra, my_model, myxmodel" in str(err.value)
    with unchanged(db), pytest.raises(NotFound, match="no artifacts at all"):
        register(reg, run_id=OTHER_RUN)
    # a file is not a folder
    with unchanged(db), pytest.raises(NotFound, match="no artifacts under 'model/MLmodel/'"):
        register(reg, artifact_path="model/MLmodel")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "bad name"}, "model name 'bad name' is invalid"),
        ({"name": "-x"}, "model name '-x' is invalid"),
        ({"artifact_path": ""}, "artifact_path '' must name"),
        ({"artifact_path": "../model"}, "artifact_path '../model'"),
        ({"artifact_path": "model//sub"}, "artifact_path 'model//sub'"),
        ({"run_id": ""}, "run_id must be a non-empty string"),
        ({"flavor": ""}, "flavor must be a non-empty string"),
        ({"flavor": "x" * 65}, "at most 64"),
        ({"metrics": {"auc": float("nan")}}, "metric 'auc' .* finite number, got nan"),
        ({"metrics": {"auc": "high"}}, "metric 'auc' .* finite number"),
        ({"metrics": {"auc": True}}, "metric 'auc' .* finite number"),
        ({"metrics": {"bad key!": 1.0}}, "metric key 'bad key!'"),
        ({"signature": {"x": object()}}, "signature must be plain JSON data"),
        ({"signature": ["inputs"]}, "signature must be a mapping"),
        ({"tags": {"k": 1}}, "tag 'k' must have a string value"),
        ({"tags": {"": "v"}}, "tag key must be a non-empty string"),
        ({"description": None}, "description must be a string"),
    ],
)
def test_create_version_rejects_bad_input(
    reg: SqlRegistry, db: Database, kwargs: dict[str, Any], match: str
) -> None:
    kwargs = dict(kwargs)  # the parameter dict is shared by the SQLite and PostgreSQL runs
    name = kwargs.pop("name", "churn")
    with unchanged(db), pytest.raises(InvalidArgument, match=match):
        register(reg, name, **kwargs)


def test_version_numbers_are_never_reused(reg: SqlRegistry) -> None:
    assert [register(reg) for _ in range(3)] == [1, 2, 3]
    reg.delete_version("churn", 3)
    reg.delete_version("churn", 1)
    assert register(reg) == 4
    assert [v.version for v in reg.list_versions("churn")] == [4, 2]
    everything = reg.list_versions("churn", deleted=True)
    assert [(v.version, v.deleted) for v in everything] == [
        (4, False),
        (3, True),
        (2, False),
        (1, True),
    ]
    assert reg.get_model("churn").latest_version == 4
    reg.delete_version("churn", 4)
    assert reg.get_model("churn").latest_version == 2
    assert register(reg) == 5
    # another model counts on its own
    assert register(reg, "fraud") == 1


# --- models -------------------------------------------------------------------------------------


def test_create_get_list_update_model(reg: SqlRegistry, db: Database, clock: Clock) -> None:
    made = reg.create_model("churn", description="who leaves", tags={"team": "growth"})
    assert (made.name, made.description, made.created_at, made.updated_at) == (
        "churn",
        "who leaves",
        1000,
        1000,
    )
    assert made == reg.get_model("churn")
    assert made.latest_version is None and made.aliases == {}
    reg.create_model("apple")
    assert [m.name for m in reg.list_models()] == ["apple", "churn"]

    clock.t = 2000
    updated = reg.update_model("churn", description="who churns", tags={"tier": "1"})
    assert updated.description == "who churns" and updated.updated_at == 2000
    assert updated.tags == {"team": "growth", "tier": "1"}  # merged
    updated = reg.update_model("churn", tags={"team": "retention"})
    assert updated.description == "who churns"  # None leaves it alone
    assert updated.tags == {"team": "retention", "tier": "1"}

    register(reg)
    register(reg)
    reg.set_alias("churn", "champion", 1)
    reg.set_alias("churn", "challenger", 2)
    got = reg.get_model("churn")
    assert got.aliases == {"champion": 1, "challenger": 2} and got.latest_version == 2
    listed = {m.name: m for m in reg.list_models()}
    assert listed["churn"] == got
    assert listed["apple"].aliases == {} and listed["apple"].latest_version is None

    with unchanged(db), pytest.raises(AlreadyExists, match="model 'churn' already exists"):
        reg.create_model("churn")
    with unchanged(db), pytest.raises(InvalidArgument, match="model name"):
        reg.create_model("no/slash")
    with unchanged(db), pytest.raises(InvalidArgument, match="tag key"):
        reg.update_model("churn", tags={"bad key!": "x"})
    with unchanged(db), pytest.raises(InvalidArgument, match="description must be a string"):
        reg.update_model("churn", description=3)  # type: ignore[arg-type]


def test_list_models_empty(reg: SqlRegistry) -> None:
    assert reg.list_models() == []


def test_unknown_model_suggests_close_names(reg: SqlRegistry, db: Database) -> None:
    with pytest.raises(NotFound, match="no model is registered yet"):
        reg.get_model("churn")
    register(reg)
    with pytest.raises(NotFound, match=r"model 'chrun' does not exist; did you mean 'churn'\?"):
        reg.get_model("chrun")
    with pytest.raises(NotFound, match=r"model 'zzz' does not exist; list_models\(\)"):
        reg.get_model("zzz")


UNKNOWN_MODEL_CALLS: list[Callable[[SqlRegistry], object]] = [
    lambda r: r.get_model("chrun"),
    lambda r: r.update_model("chrun", description="x"),
    lambda r: r.get_version("chrun", 1),
    lambda r: r.list_versions("chrun"),
    lambda r: r.update_version("chrun", 1, description="x"),
    lambda r: r.delete_version("chrun", 1),
    lambda r: r.restore_version("chrun", 1),
    lambda r: r.set_alias("chrun", "champion", 1),
    lambda r: r.delete_alias("chrun", "champion"),
    lambda r: r.resolve("chrun"),
    lambda r: r.resolve("chrun", version=1),
    lambda r: r.resolve("chrun", alias="champion"),
    lambda r: r.resolve("chrun", alias="champion", at=5),
    lambda r: r.alias_history("chrun"),
]


@pytest.mark.parametrize("call", UNKNOWN_MODEL_CALLS)
def test_every_call_names_an_unknown_model(
    reg: SqlRegistry, db: Database, call: Callable[[SqlRegistry], object]
) -> None:
    register(reg)
    with unchanged(db), pytest.raises(NotFound, match=r"model 'chrun' does not exist.*'churn'"):
        call(reg)


# --- versions -----------------------------------------------------------------------------------


def test_get_and_update_version(reg: SqlRegistry, db: Database) -> None:
    register(reg, tags={"a": "1"})
    register(reg)
    reg.set_alias("churn", "champion", 1)
    reg.set_alias("churn", "backup", 1)
    v1 = reg.get_version("churn", 1)
    assert v1.aliases == ("backup", "champion") and v1.tags == {"a": "1"}
    assert reg.get_version("churn", 2).aliases == ()

    updated = reg.update_version("churn", 1, description="retrained", tags={"b": "2"})
    assert updated.description == "retrained" and updated.tags == {"a": "1", "b": "2"}
    assert updated == reg.get_version("churn", 1)
    assert reg.update_version("churn", 1, tags={"a": "x"}).description == "retrained"
    listed = reg.list_versions("churn")
    assert [v.version for v in listed] == [2, 1] and listed[1] == reg.get_version("churn", 1)

    reg.delete_version("churn", 2)
    with (
        unchanged(db),
        pytest.raises(
            NotFound, match=r"model 'churn' has no version 7; versions: 1 \(deleted: 2\)"
        ),
    ):
        reg.get_version("churn", 7)
    with unchanged(db), pytest.raises(NotFound, match="has no version 7"):
        reg.update_version("churn", 7, description="x")
    with unchanged(db), pytest.raises(InvalidArgument, match="version must be a whole number"):
        reg.get_version("churn", 0)
    with unchanged(db), pytest.raises(InvalidArgument, match="tag 'k' must have a string"):
        reg.update_version("churn", 1, tags={"k": None})  # type: ignore[dict-item]
    assert reg.get_version("churn", 2).deleted  # deleted versions can still be read


def test_list_versions_of_model_without_versions(reg: SqlRegistry) -> None:
    reg.create_model("empty")
    assert reg.list_versions("empty") == [] == reg.list_versions("empty", deleted=True)
    with pytest.raises(NotFound, match="'empty' has no version 1; it has no live versions"):
        reg.get_version("empty", 1)


def test_delete_and_restore_version(reg: SqlRegistry, db: Database, clock: Clock) -> None:
    register(reg)
    register(reg)
    reg.set_alias("churn", "champion", 1)
    with unchanged(db), pytest.raises(Conflict) as err:
        reg.delete_version("churn", 1)
    message = str(err.value)
    assert "'champion'" in message and "set_alias" in message and "delete_alias" in message

    clock.t = 5000
    reg.delete_version("churn", 2)
    assert reg.get_version("churn", 2).deleted_at == 5000
    with unchanged(db):
        reg.delete_version("churn", 2)  # already deleted: a no-op
    reg.restore_version("churn", 2)
    assert not reg.get_version("churn", 2).deleted
    with unchanged(db):
        reg.restore_version("churn", 2)  # not deleted: a no-op
    assert owner_files(db, "model:churn/2")  # files kept throughout

    with unchanged(db), pytest.raises(NotFound, match="has no version 9"):
        reg.delete_version("churn", 9)
    with unchanged(db), pytest.raises(NotFound, match="has no version 9"):
        reg.restore_version("churn", 9)

    reg.set_alias("churn", "backup", 1)
    with pytest.raises(Conflict, match="aliases 'backup', 'champion' point at it"):
        reg.delete_version("churn", 1)


# --- aliases ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "match"),
    [
        ("3", r"all digits.*ambiguous with version 3"),
        ("latest", "reserved"),
        ("Latest", "reserved"),
        ("bad alias", "alias name 'bad alias' is invalid"),
        ("", "alias name '' is invalid"),
    ],
)
def test_set_alias_rejects_bad_alias(
    reg: SqlRegistry, db: Database, alias: str, match: str
) -> None:
    register(reg)
    with unchanged(db), pytest.raises(InvalidArgument, match=match):
        reg.set_alias("churn", alias, 1)
    with unchanged(db), pytest.raises(InvalidArgument, match=match):
        reg.delete_alias("churn", alias)


def test_set_alias_errors(reg: SqlRegistry, db: Database) -> None:
    register(reg)
    register(reg)
    reg.delete_version("churn", 2)
    with unchanged(db), pytest.raises(Conflict, match="version 2 of model 'churn' is deleted"):
        reg.set_alias("churn", "champion", 2)
    with unchanged(db), pytest.raises(NotFound, match="has no version 5; versions: 1"):
        reg.set_alias("churn", "champion", 5)
    with unchanged(db), pytest.raises(InvalidArgument, match="version must be a whole number"):
        reg.set_alias("churn", "champion", True)


def test_set_and_delete_alias_record_history(reg: SqlRegistry, db: Database, clock: Clock) -> None:
    register(reg)
    register(reg)
    reg.set_alias("churn", "champion", 1)
    clock.t = 2000
    with unchanged(db):
        reg.set_alias("churn", "champion", 1)  # same target: nothing recorded
    reg.set_alias("churn", "champion", 2)
    clock.t = 3000
    reg.set_alias("churn", "staging", 2)
    reg.delete_alias("churn", "champion")
    user = current_user()
    assert reg.alias_history("churn") == [
        AliasEvent("churn", "champion", None, 1, user, 1000),
        AliasEvent("churn", "champion", 1, 2, user, 2000),
        AliasEvent("churn", "staging", None, 2, user, 3000),
        AliasEvent("churn", "champion", 2, None, user, 3000),
    ]
    assert [e.to_version for e in reg.alias_history("churn", alias="champion")] == [1, 2, None]
    assert reg.get_model("churn").aliases == {"staging": 2}

    with (
        unchanged(db),
        pytest.raises(
            NotFound, match=r"model 'churn' has no alias 'champion'; aliases: staging \(-> 2\)"
        ),
    ):
        reg.delete_alias("churn", "champion")
    with unchanged(db), pytest.raises(NotFound, match="has no alias 'nope'"):
        reg.alias_history("churn", alias="nope")
    reg.create_model("empty")
    assert reg.alias_history("empty") == []
    with pytest.raises(NotFound, match="it has no aliases; set one with set_alias"):
        reg.delete_alias("empty", "champion")


# --- resolve ------------------------------------------------------------------------------------


def test_resolve_by_number_alias_and_latest(reg: SqlRegistry, db: Database) -> None:
    for _ in range(3):
        register(reg)
    reg.set_alias("churn", "champion", 2)
    assert reg.resolve("churn", version=3).version == 3
    found = reg.resolve("churn", alias="champion")
    assert found.version == 2 and found.aliases == ("champion",)
    assert reg.resolve("churn").version == 3
    assert reg.resolve("churn", alias="latest").version == 3
    reg.delete_version("churn", 3)
    assert reg.resolve("churn").version == 2

    with (
        unchanged(db),
        pytest.raises(
            NotFound, match=r"model 'churn' has no version 7; versions: 1, 2 \(deleted: 3\)"
        ),
    ):
        reg.resolve("churn", version=7)
    with (
        unchanged(db),
        pytest.raises(
            NotFound,
            match=r"version 3 of model 'churn' is deleted; restore it with restore_version",
        ),
    ):
        reg.resolve("churn", version=3)
    with (
        unchanged(db),
        pytest.raises(NotFound, match=r"has no alias 'prod'; aliases: champion \(-> 2\)"),
    ):
        reg.resolve("churn", alias="prod")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"version": 1, "alias": "champion"}, "not both"),
        ({"version": 1, "at": 5}, "'at' only applies to an alias"),
        ({"at": 5}, "'at' only applies to an alias"),
        ({"alias": "latest", "at": 5}, "'at' only applies to an alias"),
        ({"version": 0}, "version must be a whole number"),
        ({"alias": "7"}, "all digits"),
        ({"alias": "champion", "at": "noon"}, "at must be milliseconds"),
    ],
)
def test_resolve_rejects_bad_arguments(
    reg: SqlRegistry, kwargs: dict[str, Any], match: str
) -> None:
    register(reg)
    with pytest.raises(InvalidArgument, match=match):
        reg.resolve("churn", **kwargs)


def test_resolve_latest_without_live_versions(reg: SqlRegistry) -> None:
    reg.create_model("empty")
    with pytest.raises(NotFound, match="'empty' has no versions that are not deleted"):
        reg.resolve("empty")
    register(reg, "gone")
    reg.delete_version("gone", 1)
    with pytest.raises(NotFound, match="gone@latest names nothing"):
        reg.resolve("gone", alias="latest")


def test_resolve_alias_at_a_time(reg: SqlRegistry, clock: Clock) -> None:
    for _ in range(3):
        register(reg)
    clock.t = 1000
    reg.set_alias("churn", "champion", 1)
    clock.t = 2000
    reg.set_alias("churn", "champion", 2)
    clock.t = 3000
    reg.delete_alias("churn", "champion")
    clock.t = 4000
    reg.set_alias("churn", "champion", 3)
    reg.set_alias("churn", "champion", 1)  # same millisecond: the later move wins

    def at(t: int) -> int:
        return reg.resolve("churn", alias="champion", at=t).version

    assert [at(1000), at(1999), at(2000), at(2999), at(4000), at(10**13)] == [1, 1, 2, 2, 1, 1]
    with pytest.raises(NotFound, match=r"did not exist at 1970-01-01T00:00:00.999\+00:00"):
        at(999)
    with pytest.raises(NotFound, match=r"alias 'champion' of model 'churn' did not exist"):
        at(3500)
    with pytest.raises(NotFound, match="did not exist"):
        reg.resolve("churn", alias="never", at=5000)

    # the version it pointed to then, if deleted since, is reported as deleted
    reg.delete_version("churn", 2)
    with pytest.raises(NotFound, match="version 2 of model 'churn' is deleted"):
        at(2500)


# --- concurrency --------------------------------------------------------------------------------


def test_concurrent_registrations_get_distinct_consecutive_numbers(
    db: Database, db_url: str
) -> None:
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        own = Database(db_url, migrate=False)  # like a separate process: its own engine
        try:
            barrier.wait(timeout=30)
            number = register(SqlRegistry(own))
            with lock:
                results.append(number)
        except BaseException as exc:  # reported below
            with lock:
                errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=work) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(results) == list(range(1, threads_n + 1))
    reg = SqlRegistry(db)
    assert [v.version for v in reg.list_versions("churn")] == list(range(threads_n, 0, -1))
    for number in results:
        assert len(owner_files(db, f"model:churn/{number}")) == 3
