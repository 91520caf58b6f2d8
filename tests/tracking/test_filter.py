"""The search_runs filter/order-by language: parsing, errors, and compiled SQL on both databases."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import pytest
from sqlalchemy import insert, select

from shipyard.errors import FilterSyntaxError, InvalidArgument
from shipyard.store import schema as s
from shipyard.store.database import Database
from shipyard.tracking.filter import (
    MAX_COMPARISONS,
    MAX_DEPTH,
    And,
    Comparison,
    Field,
    Not,
    Or,
    OrderKey,
    compile_filter,
    compile_order_by,
    decode_page_token,
    encode_page_token,
    parse_filter,
    parse_order_by,
)

M, P, T, A = "metrics", "params", "tags", "attributes"


def cmp(kind: str, key: str, op: str, value: object) -> Comparison:
    return Comparison(Field(kind, key), op, value)  # type: ignore[arg-type]


AUC = cmp(M, "auc", ">", 0.5)
LOSS = cmp(M, "loss", "<", 1)
RUNNING = cmp(A, "status", "=", "RUNNING")


# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.auc >= 0.9", cmp(M, "auc", ">=", 0.9)),
        ("metrics.auc>0.5", AUC),
        ("metrics.auc = -2", cmp(M, "auc", "=", -2)),
        ("metrics.auc != 1e-3", cmp(M, "auc", "!=", 0.001)),
        ("metrics.auc <= +4E2", cmp(M, "auc", "<=", 400.0)),
        ("metrics.auc < .5", cmp(M, "auc", "<", 0.5)),
        ("metrics.val/auc:x-1.y > 0", cmp(M, "val/auc:x-1.y", ">", 0)),
        ("metrics.`val auc` > 0", cmp(M, "val auc", ">", 0)),
        ('params."learning rate" = "0.1"', cmp(P, "learning rate", "=", "0.1")),
        ("params.lr < 0.01", cmp(P, "lr", "<", 0.01)),
        (r"tags.note = 'it\'s'", cmp(T, "note", "=", "it's")),
        (r'tags.note = "say \"hi\""', cmp(T, "note", "=", 'say "hi"')),
        (r"tags.note = 'a\\b\c'", cmp(T, "note", "=", "a\\b\\c")),
        ("tags.note = ''", cmp(T, "note", "=", "")),
        ("status = 'RUNNING'", RUNNING),
        ("attributes.status = 'RUNNING'", RUNNING),
        ("attributes.`status` = 'RUNNING'", RUNNING),
        ("run_name = 'x'", cmp(A, "name", "=", "x")),
        ("attributes.name = 'x'", cmp(A, "name", "=", "x")),
        ("start_time > 1700000000000", cmp(A, "start_time", ">", 1_700_000_000_000)),
        ("experiment_id IN (1, 2)", cmp(A, "experiment_id", "IN", (1, 2))),
        ("params.model IN ('a', \"b\")", cmp(P, "model", "IN", ("a", "b"))),
        ("params.batch not in (32,64)", cmp(P, "batch", "NOT IN", (32, 64))),
        ("params.model LIKE 'x%'", cmp(P, "model", "LIKE", "x%")),
        ("params.model ILike 'x%'", cmp(P, "model", "ILIKE", "x%")),
        ("params.model NOT LIKE 'x%'", cmp(P, "model", "NOT LIKE", "x%")),
        ("params.model not ilike 'x%'", cmp(P, "model", "NOT ILIKE", "x%")),
        ("tags.team IS NULL", cmp(T, "team", "IS NULL", None)),
        ("tags.team is not null", cmp(T, "team", "IS NOT NULL", None)),
        ("end_time IS NULL", cmp(A, "end_time", "IS NULL", None)),
        ("metrics.auc > 0.5 or metrics.loss < 1", Or((AUC, LOSS))),
        (
            "metrics.auc > 0.5 AND metrics.loss < 1 AND status = 'RUNNING'",
            And((AUC, LOSS, RUNNING)),
        ),
        (
            "metrics.auc > 0.5 OR metrics.loss < 1 AND status = 'RUNNING'",
            Or((AUC, And((LOSS, RUNNING)))),
        ),
        (
            "(metrics.auc > 0.5 OR metrics.loss < 1) AND status = 'RUNNING'",
            And((Or((AUC, LOSS)), RUNNING)),
        ),
        ("NOT metrics.auc > 0.5 AND metrics.loss < 1", And((Not(AUC), LOSS))),
        ("NOT (metrics.auc > 0.5 OR metrics.loss < 1)", Not(Or((AUC, LOSS)))),
        ("((metrics.auc > 0.5))", AUC),
    ],
)
def test_parse_constructs(text: str, expected: object) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_filter_is_none(text: str) -> None:
    assert parse_filter(text) is None


def test_brief_example_message() -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter("metrics.auc foo")
    assert str(info.value).startswith(
        "expected a comparison operator after 'metrics.auc', got 'foo' at position 12"
    )
    assert info.value.position == 12
    assert info.value.text == "metrics.auc foo"
    assert isinstance(info.value, InvalidArgument)


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("metrics.auc > 0.5 $", 18, "unexpected character '$'"),
        ("metrics.auc ! 1", 12, "unexpected character '!'; did you mean '!='"),
        ("`auc` > 1", 0, "backticks quote a key after a prefix"),
        ("params.model = 'xgb", 15, "unterminated string: no closing '"),
        ('params.model = "xgb', 15, 'unterminated string: no closing "'),
        (r"params.model = 'xgb\'", 15, "unterminated string"),
        ("metrics.auc", 11, "expected a comparison operator after 'metrics.auc', got the end"),
        ("metrics.auc >", 13, "expected a number or a quoted string after 'metrics.auc >', got"),
        ("metrics.auc == 1", 13, "after 'metrics.auc =', got '='"),
        ("metric.auc > 0.5", 0, "unknown identifier 'metric.auc': did you mean 'metrics.auc'?"),
        ("param.`learning rate` = '1'", 0, "did you mean 'params.`learning rate`'?"),
        ("Tags.team = 'a'", 0, "did you mean 'tags.team'?"),
        ("zzz.a = 'a'", 0, "use metrics., params., tags. or attributes."),
        ("auc > 0.5", 0, "unknown attribute 'auc'"),
        ("auc > 0.5", 0, "metrics.auc, params.auc or tags.auc"),
        ("attributes.stauts = 'x'", 0, "did you mean 'status'?"),
        ("metrics.auc LIKE '%a'", 12, "LIKE compares text but metrics.auc is a number"),
        ("start_time ilike '%a'", 11, "ILIKE compares text but start_time is a number"),
        ("metrics.auc = 'high'", 14, "metrics.auc is a number; compare it with a number"),
        ("params.model < 'b'", 15, "'<' compares numbers"),
        ("status = 5", 9, "status is text; quote the value: status = '5'"),
        ("(metrics.auc > 0.5", 0, "unbalanced parentheses: this '(' is never closed"),
        ("((metrics.auc > 0.5)", 0, "unbalanced parentheses: this '(' is never closed"),
        ("metrics.auc > 0.5)", 17, "unbalanced parentheses: ')' without a matching '('"),
        ("()", 1, "expected a comparison such as metrics.auc > 0.5, got ')'"),
        ("(metrics.auc > 0.5 status = 'x')", 19, "expected AND, OR or ')', got 'status'"),
        ("metrics.auc > 0.5 metrics.loss < 1", 18, "expected AND, OR or the end of the filter"),
        (
            "metrics.auc > 0.5 AND",
            21,
            "expected a comparison such as metrics.auc > 0.5, got the end",
        ),
        ("AND metrics.auc > 1", 0, "got 'AND'"),
        ("metrics.auc > NaN", 14, "NaN never matches"),
        ("metrics.auc > nan", 14, "use metrics.auc IS NULL"),
        ("metrics.auc > 1e", 14, "malformed number '1e'"),
        ("metrics.auc > 2x", 14, "malformed number '2x'"),
        ("metrics.auc > 1e999", 14, "number 1e999 is out of range"),
        ("metrics.auc > high", 14, "expected a number or a quoted string"),
        ("params.x IN 'a'", 12, "expected '(' after IN, got ''a''"),
        ("params.x IN ()", 13, "expected a value in the IN list, got ')'"),
        ("params.x IN ('a',)", 17, "expected a value after ',' in the IN list"),
        ("params.x IN ('a', 1)", 18, "mixed numbers and strings in the IN list"),
        ("params.x IN ('a' 'b')", 17, "expected ',' or ')' in the IN list"),
        ("params.x IN ('a'", 12, "unbalanced parentheses: this '(' is never closed"),
        ("metrics.x IN ('a')", 14, "metrics.x is a number"),
        ("params.x IS 'a'", 12, "expected NULL or NOT NULL after IS, got ''a''"),
        ("params.x NOT = 'a'", 13, "expected IN, LIKE or ILIKE after NOT, got '='"),
        ("params.x LIKE 5", 14, "expected a quoted pattern after LIKE"),
        (r"params.x LIKE 'a\\'", 14, "cannot end with a lone backslash"),
        ("metrics. > 1", 8, "expected a key after 'metrics.'"),
        ("metrics.`val/auc > 1", 8, "unterminated key: no closing `"),
        ("metrics.`` > 1", 8, "empty key after 'metrics.'"),
        ("params.'lr' = '1'", 7, "quote a key with backticks or double quotes"),
        ("NOT", 3, "expected a comparison such as"),
    ],
)
def test_syntax_errors(text: str, position: int, message: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter(text)
    err = info.value
    assert (err.position, err.text) == (position, text)
    assert message in str(err)
    assert f"at position {position}:\n  {text}\n  {' ' * position}^" in str(err)


def test_nesting_and_size_limits() -> None:
    deep = "(" * (MAX_DEPTH + 1) + "status = 'x'" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(FilterSyntaxError, match="nested more than"):
        parse_filter(deep)
    ok = "(" * (MAX_DEPTH - 1) + "status = 'x'" + ")" * (MAX_DEPTH - 1)
    assert parse_filter(ok) == cmp(A, "status", "=", "x")
    with pytest.raises(FilterSyntaxError, match=f"more than {MAX_COMPARISONS} comparisons"):
        parse_filter(" OR ".join(["status = 'x'"] * (MAX_COMPARISONS + 1)))


def test_filter_must_be_a_string() -> None:
    with pytest.raises(InvalidArgument, match="filter must be a string"):
        parse_filter(42)  # type: ignore[arg-type]


# --- order by ---------------------------------------------------------------------------------


def test_parse_order_by() -> None:
    assert parse_order_by(
        ["metrics.auc DESC", "params.lr", "start_time ASC", "attributes.name desc", "tags.`a b`"]
    ) == [
        OrderKey(Field("metrics", "auc"), descending=True),
        OrderKey(Field("params", "lr")),
        OrderKey(Field("attributes", "start_time")),
        OrderKey(Field("attributes", "name"), descending=True),
        OrderKey(Field("tags", "a b")),
    ]
    assert parse_order_by([]) == []


@pytest.mark.parametrize(
    ("item", "position", "message"),
    [
        (
            "metrics.auc DESCENDING",
            12,
            "expected ASC, DESC or the end of the item, got 'DESCENDING'",
        ),
        ("metrics.auc DESC, params.lr", 16, "got ','"),
        ("metric.auc", 0, "did you mean 'metrics.auc'?"),
        ("auc DESC", 0, "unknown attribute 'auc'"),
        ("DESC", 0, "expected an identifier such as metrics.auc, got 'DESC'"),
    ],
)
def test_order_by_errors(item: str, position: int, message: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_order_by(["start_time", item])
    assert (info.value.position, info.value.text) == (position, item)
    assert message in str(info.value)


def test_order_by_rejects_blank_items_and_bare_strings() -> None:
    with pytest.raises(FilterSyntaxError, match="empty order_by item"):
        parse_order_by(["  "])
    with pytest.raises(InvalidArgument, match="must be a list of strings"):
        parse_order_by("metrics.auc")
    with pytest.raises(InvalidArgument, match="items must be strings"):
        parse_order_by([3])  # type: ignore[list-item]


def test_order_by_joins_once_per_key() -> None:
    keys = parse_order_by(["metrics.auc DESC", "metrics.auc", "params.lr", "start_time"])
    clauses, joins = compile_order_by(keys)
    assert len(joins) == 2
    # metric: 1 clause each; param: numeric then text; attribute: 1; tie-breakers: 2.
    assert len(clauses) == 1 + 1 + 2 + 1 + 2
    assert [str(c) for c in clauses[-2:]] == ["runs.start_time DESC", "runs.run_id ASC"]


# --- page tokens ------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [0, 1, 100, 10**12])
def test_page_token_round_trip(offset: int) -> None:
    token = encode_page_token(offset)
    assert token.isascii() and "=" not in token
    assert decode_page_token(token) == offset


@pytest.mark.parametrize("offset", [-1, True, 1.5, "3"])
def test_encode_page_token_rejects_bad_offsets(offset: object) -> None:
    with pytest.raises(InvalidArgument, match="non-negative integer"):
        encode_page_token(offset)  # type: ignore[arg-type]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


@pytest.mark.parametrize(
    "token",
    [
        "",
        "!!!",
        "abc",
        "é",
        _b64(b"not json"),
        _b64(b"[1]"),
        _b64(b'{"offset": -1}'),
        _b64(b'{"offset": "5"}'),
        _b64(b'{"offset": true}'),
        _b64(b'{"offset": 1.0}'),
        _b64(b"\xff\xfe"),
        None,
    ],
)
def test_decode_page_token_rejects_bad_tokens(token: str) -> None:
    with pytest.raises(InvalidArgument, match="next_page_token of the previous page"):
        decode_page_token(token)


# --- compiled against real databases ----------------------------------------------------------


class Row(NamedTuple):
    start: int
    end: int | None
    status: str
    parent: str | None
    metrics: dict[str, float | None]  # None: a NaN metric
    params: dict[str, str]
    tags: dict[str, str]


RUNS: dict[str, Row] = {
    "r1": Row(1000, 1500, "FINISHED", None, {"auc": 0.95, "loss": 0.1},
              {"lr": "0.01", "model": "xgb", "learning rate": "0.1"}, {"team": "a"}),
    "r2": Row(2000, 2500, "FINISHED", None, {"auc": 0.80, "loss": 0.3},
              {"lr": "0.1", "model": "XGB-large"}, {"team": "b", "code": "linXreg"}),
    "r3": Row(3000, None, "FAILED", None, {"auc": None, "loss": 0.2},
              {"lr": "1e-3", "model": "rf"}, {}),
    "r4": Row(4000, None, "RUNNING", "r1", {"loss": 0.5},
              {"lr": "adam", "model": "lin_reg"}, {"team": "a", "code": "lin_reg"}),
    "r5": Row(5000, 5500, "FINISHED", None, {"auc": 0.90, "val/auc": 0.7},
              {"model": "100%"}, {"team": "c"}),
    "r6": Row(6000, 7000, "FINISHED", None, {"auc": 0.95, "loss": 0.05},
              {"lr": "3", "model": "xgb"}, {"team": "b"}),
    "r7": Row(7000, None, "KILLED", None, {},
              {"lr": "1e400", "model": "x*y?[z]"}, {"team": "B"}),
}  # fmt: skip


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    with database.begin() as conn:
        exp = conn.execute(
            insert(s.experiments)
            .values(name="e", created_at=0, updated_at=0)
            .returning(s.experiments.c.experiment_id)
        ).scalar_one()
        conn.execute(
            insert(s.runs),
            [
                dict(run_id=rid, experiment_id=exp, name=rid, status=r.status, user="ann",
                     parent_run_id=r.parent, start_time=r.start, end_time=r.end,
                     heartbeat_at=r.start)
                for rid, r in RUNS.items()
            ],
        )  # fmt: skip
        conn.execute(
            insert(s.latest_metrics),
            [
                dict(run_id=rid, key=k, value=v, step=0, timestamp=0)
                for rid, r in RUNS.items()
                for k, v in r.metrics.items()
            ],
        )
        conn.execute(
            insert(s.params),
            [
                dict(run_id=rid, key=k, value=v)
                for rid, r in RUNS.items()
                for k, v in r.params.items()
            ],
        )
        conn.execute(
            insert(s.tags),
            [
                dict(run_id=rid, key=k, value=v)
                for rid, r in RUNS.items()
                for k, v in r.tags.items()
            ],
        )
    yield database
    database.dispose()


def search(
    db: Database, filter: str = "", order_by: Sequence[str] = (), *, limit: int | None = None,
    offset: int = 0
) -> list[str]:  # fmt: skip
    clauses, joins = compile_order_by(parse_order_by(order_by))
    source = s.runs
    for target, onclause in joins:
        source = source.outerjoin(target, onclause)  # type: ignore[assignment]
    query = (
        select(s.runs.c.run_id)
        .select_from(source)
        .where(compile_filter(parse_filter(filter)))
        .order_by(*clauses)
        .offset(offset)
        .limit(limit)
    )
    with db.read() as conn:
        return list(conn.execute(query).scalars())


FILTERS: list[tuple[str, set[str]]] = [
    ("", set(RUNS)),
    ("metrics.auc > 0.85", {"r1", "r5", "r6"}),
    # != needs the metric (r4, r7 lack auc) and NaN (r3) never matches; NOT does not.
    ("metrics.auc != 0.95", {"r2", "r5"}),
    ("NOT metrics.auc = 0.95", {"r2", "r3", "r4", "r5", "r7"}),
    ("metrics.auc IS NULL", {"r3", "r4", "r7"}),
    ("metrics.auc IS NOT NULL", {"r1", "r2", "r5", "r6"}),
    ("metrics.auc IN (0.8, 0.9)", {"r2", "r5"}),
    ("metrics.`val/auc` >= 0.7", {"r5"}),
    ("metrics.val/auc >= 0.7 OR metrics.loss >= 0.5", {"r4", "r5"}),
    # numeric param comparison with non-numeric ("adam") and out-of-range-ish values present
    ("params.lr < 0.05", {"r1", "r3"}),
    ("params.lr >= 1 AND params.lr < 1e10", {"r6"}),
    ("params.lr = 0.001", {"r3"}),
    ("params.lr > 1e300", {"r7"}),
    ("params.lr != 0.1", {"r1", "r3", "r6", "r7"}),
    ("params.lr IN (0.01, 3)", {"r1", "r6"}),
    ("params.lr = '1e-3'", {"r3"}),
    ("params.lr IS NULL", {"r5"}),
    ('params."learning rate" = "0.1"', {"r1"}),
    ("params.model = 'xgb' OR tags.team = 'c'", {"r1", "r5", "r6"}),
    ("params.model IN ('rf', 'lin_reg')", {"r3", "r4"}),
    ("params.model NOT IN ('xgb', 'rf')", {"r2", "r4", "r5", "r7"}),
    ("params.model LIKE 'xgb%'", {"r1", "r6"}),
    ("params.model ILIKE 'xgb%'", {"r1", "r2", "r6"}),
    ("params.model NOT LIKE 'xgb%'", {"r2", "r3", "r4", "r5", "r7"}),
    ("params.model NOT ILIKE '%G%'", {"r3", "r5", "r7"}),
    (r"params.model LIKE '100\%'", {"r5"}),
    ("params.model LIKE '1_0%'", {"r5"}),
    ("params.model LIKE 'x*y?[z]'", {"r7"}),
    ("params.model LIKE '%?%'", {"r7"}),
    ("tags.code LIKE 'lin_reg'", {"r2", "r4"}),
    (r"tags.code LIKE 'lin\_reg'", {"r4"}),
    ("tags.team = 'b'", {"r2", "r6"}),
    ("tags.team ILIKE 'b'", {"r2", "r6", "r7"}),
    ("tags.team IS NULL", {"r3"}),
    ("NOT tags.team IN ('a', 'b')", {"r3", "r5", "r7"}),
    (
        "(metrics.loss < 0.25 AND NOT params.model = 'xgb') OR status = 'RUNNING'",
        {"r3", "r4"},
    ),
    ("NOT (metrics.auc > 0.85 OR tags.team = 'a')", {"r2", "r3", "r7"}),
    ("status IN ('FAILED', 'KILLED')", {"r3", "r7"}),
    ("status != 'FINISHED'", {"r3", "r4", "r7"}),
    ("end_time IS NULL", {"r3", "r4", "r7"}),
    ("end_time > 2000", {"r2", "r5", "r6"}),
    ("NOT end_time > 2000", {"r1", "r3", "r4", "r7"}),
    ("parent_run_id = 'r1'", {"r4"}),
    ("NOT parent_run_id = 'r1'", set(RUNS) - {"r4"}),
    ("parent_run_id IS NOT NULL", {"r4"}),
    ("start_time >= 4000 AND start_time < 6000", {"r4", "r5"}),
    ("run_name LIKE 'r_' AND name != 'r1' AND run_id NOT IN ('r2')", set(RUNS) - {"r1", "r2"}),
    ("attributes.user = 'ann' AND experiment_id > 0", set(RUNS)),
    ("run_name ILIKE 'R1'", {"r1"}),
    ("run_name LIKE 'R1'", set()),
]


def test_filters_match_expected_runs(db: Database) -> None:
    wrong = {}
    for text, expected in FILTERS:
        got = set(search(db, text))
        if got != expected:
            wrong[text] = (sorted(got), sorted(expected))
    assert wrong == {}


ORDERS: list[tuple[str, list[str], list[str]]] = [
    ("", [], ["r7", "r6", "r5", "r4", "r3", "r2", "r1"]),
    ("", ["start_time ASC"], ["r1", "r2", "r3", "r4", "r5", "r6", "r7"]),
    # tie r1/r6 on auc broken by start_time DESC; NaN (r3) and missing (r4, r7) last
    ("", ["metrics.auc DESC"], ["r6", "r1", "r5", "r2", "r7", "r4", "r3"]),
    ("", ["metrics.auc"], ["r2", "r5", "r6", "r1", "r7", "r4", "r3"]),
    # params: numbers by value (1e400 saturates to infinity), then text ("adam"), then missing
    ("", ["params.lr"], ["r3", "r1", "r2", "r6", "r7", "r4", "r5"]),
    ("", ["params.lr DESC"], ["r7", "r6", "r2", "r1", "r3", "r4", "r5"]),
    ("", ["end_time DESC"], ["r6", "r5", "r2", "r1", "r7", "r4", "r3"]),
    ("", ["end_time"], ["r1", "r2", "r5", "r6", "r7", "r4", "r3"]),
    ("", ["attributes.name desc"], ["r7", "r6", "r5", "r4", "r3", "r2", "r1"]),
    ("", ["status", "metrics.loss DESC"], ["r3", "r2", "r1", "r6", "r5", "r7", "r4"]),
    # text ascending (numbers first, here none), missing tag last
    ("NOT run_id = 'r7'", ["tags.team", "metrics.loss DESC"], ["r4", "r1", "r2", "r6", "r5", "r3"]),
]


@pytest.mark.parametrize(
    ("filter", "order_by", "expected"), ORDERS, ids=[str(o) for _, o, _ in ORDERS]
)
def test_order_by_nulls_last(
    db: Database, filter: str, order_by: list[str], expected: list[str]
) -> None:
    assert search(db, filter, order_by) == expected


def test_filter_and_order_with_paging(db: Database) -> None:
    order = ["metrics.loss DESC"]
    full = search(db, "metrics.loss > 0 OR tags.team = 'c'", order)
    assert full == ["r4", "r2", "r3", "r1", "r6", "r5"]
    pages = [
        search(
            db, "metrics.loss > 0 OR tags.team = 'c'", order, limit=2, offset=decode_page_token(t)
        )
        for t in (encode_page_token(0), encode_page_token(2), encode_page_token(4))
    ]
    assert [run for page in pages for run in page] == full


def test_compile_against_an_alias_of_runs(db: Database) -> None:
    r = s.runs.alias("r")
    expr = parse_filter("metrics.auc > 0.85 AND tags.team IS NOT NULL AND NOT status = 'FAILED'")
    clauses, joins = compile_order_by(parse_order_by(["metrics.auc"]), runs_table=r)
    source = r
    for target, onclause in joins:
        source = source.outerjoin(target, onclause)  # type: ignore[assignment]
    query = (
        select(r.c.run_id)
        .select_from(source)
        .where(compile_filter(expr, runs_table=r))
        .order_by(*clauses)
    )
    with db.read() as conn:
        assert list(conn.execute(query).scalars()) == ["r5", "r6", "r1"]


def test_value_comparisons_use_the_key_value_indexes(sqlite_url: str) -> None:
    database = Database(sqlite_url)
    expr = parse_filter("metrics.auc > 0.9 AND params.model = 'xgb'")
    query = select(s.runs.c.run_id).where(compile_filter(expr))
    sql = str(query.compile(database.engine, compile_kwargs={"literal_binds": True}))
    with database.read() as conn:
        plan = " | ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    database.dispose()
    assert "ix_latest_metrics_key_value (key=? AND value>?)" in plan, plan
    assert "ix_params_key_value (key=? AND value=?)" in plan, plan
