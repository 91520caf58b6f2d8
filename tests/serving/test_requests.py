"""Parsing every accepted body form, and validating it against a signature field by field."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from shipyard.errors import InvalidArgument
from shipyard.registry.package.signature import ColumnSpec, Signature, TensorSpec
from shipyard.serving.requests import (
    InputRecords,
    InputValidator,
    SchemaMismatch,
    UnsupportedMediaType,
    concat_inputs,
    media_type,
    parse_body,
    parse_json,
    record_model,
)

SIG = Signature(
    inputs=(
        ColumnSpec("age", "int64"),
        ColumnSpec("income", "float64"),
        ColumnSpec("plan", "category", levels=("basic", "pro")),
        ColumnSpec("city", "string", levels=("Oslo",)),
        ColumnSpec("active", "bool"),
        ColumnSpec("note", "string", nullable=True),
    )
)
ROW = {"age": 31, "income": 5.5, "plan": "pro", "city": "Paris", "active": True, "note": None}


def body(data: object) -> bytes:
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    "data",
    [
        {"records": [ROW, ROW]},
        [ROW, ROW],
        {"columns": list(ROW), "data": [list(ROW.values())] * 2},
        {"dataframe_split": {"columns": list(ROW), "data": [list(ROW.values())] * 2}},
        {"dataframe_records": [ROW, ROW]},
        {"instances": [ROW, ROW]},
        {"inputs": {k: [v, v] for k, v in ROW.items()}},
        {"instances": {k: [v, v] for k, v in ROW.items()}, "params": {"ignored": 1}},
        {"inputs": [ROW, ROW]},
    ],
    ids=[
        "records",
        "list",
        "split",
        "mlflow-split",
        "mlflow-records",
        "instances",
        "inputs-columns",
        "instances-columns",
        "inputs-records",
    ],
)
def test_every_json_form_gives_the_same_columns(data: object) -> None:
    raw = parse_body(body(data), "application/json; charset=utf-8")
    assert raw.n_rows == 2
    assert raw.columns is not None
    assert {k: list(v) for k, v in raw.columns.items()} == {k: [v, v] for k, v in ROW.items()}


def test_csv_bodies_parse_with_empty_cells_as_missing() -> None:
    raw = parse_body(b"age,income,note\n31,5.5,\n40,,hi\n", "text/csv")
    assert raw.columns == {"age": ["31", "40"], "income": ["5.5", None], "note": [None, "hi"]}
    sig = Signature(inputs=(ColumnSpec("age", "int64"), ColumnSpec("income", "float64", True)))
    checked = InputValidator(sig).validate(raw)
    assert checked.columns["age"].tolist() == [31, 40]
    assert math.isnan(checked.columns["income"][1])


def test_records_with_different_keys_fill_missing_values() -> None:
    raw = parse_json([{"a": 1}, {"b": 2}])
    assert raw.columns == {"a": [1, None], "b": [None, 2]}


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"{bad", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8|not valid JSON"),
        (b'"text"', "object or a list"),
        (b"{}", "empty object"),
        (b'{"rows": []}', "cannot tell the input format"),
        (b'{"records": [], "inputs": []}', "cannot tell the input format"),
        (b"[]", "no rows"),
        (b'{"records": {"a": 1}}', "must be a list"),
        (b'[{"a": 1}, 3]', r"body\[1\] is not an object"),
        (b'{"columns": ["a", "b"], "data": [[1]]}', r"data\[0\] has 1 values, expected 2"),
        (b'{"columns": "a", "data": [[1]]}', "list of column names"),
        (b'{"inputs": {"a": [1, 2], "b": [1]}}', "different lengths"),
        (b'{"dataframe_split": [1]}', "dataframe_split"),
    ],
)
def test_malformed_bodies_are_invalid_arguments(content: bytes, match: str) -> None:
    with pytest.raises(InvalidArgument, match=match) as info:
        parse_body(content, "application/json")
    assert info.value.status == 400


def test_bad_csv_is_an_invalid_argument() -> None:
    with pytest.raises(InvalidArgument, match="header line"):
        parse_body(b"a,b\n", "text/csv")
    with pytest.raises(InvalidArgument, match="line 3 has 1 cells"):
        parse_body(b"a,b\n1,2\n3\n", "text/csv")


def test_media_types() -> None:
    assert media_type(None) == media_type("application/json") == "json"
    assert media_type("application/vnd.api+json") == "json"
    assert media_type("text/csv; header=present") == "csv"
    with pytest.raises(UnsupportedMediaType, match="text/plain") as info:
        media_type("text/plain")
    assert info.value.status == 415


def test_valid_rows_become_typed_columns() -> None:
    checked = InputValidator(SIG).validate(
        parse_json([ROW, {**ROW, "age": "40", "active": "false"}])
    )
    cols = checked.columns
    assert cols["age"].dtype == np.int64 and cols["age"].tolist() == [31, 40]
    assert cols["income"].dtype == np.float64
    assert cols["active"].tolist() == [True, False]
    assert cols["city"] == ["Paris", "Paris"]  # string levels are only what the example held
    assert cols["note"] == [None, None]
    assert checked.native is False and list(cols) == [c.name for c in SIG.inputs]


def test_every_bad_field_is_listed() -> None:
    bad = {"income": "lots", "plan": "gold", "city": None, "active": 3, "age": 2.5, "extra": 1}
    with pytest.raises(SchemaMismatch) as info:
        InputValidator(SIG).validate(parse_json([bad]))
    fields = {f.field: f.message for f in info.value.fields}
    assert info.value.status == 422
    assert set(fields) == {"age", "income", "plan", "city", "active", "note"}
    assert "is not a whole number" in fields["age"]
    assert "'lots' at row 0 is not a number" in fields["income"]
    assert "unknown category 'gold'" in fields["plan"] and "'basic', 'pro'" in fields["plan"]
    assert "missing value" in fields["city"]
    assert "not a boolean" in fields["active"]
    assert fields["note"] == "column 'note' is missing"


def test_nan_is_refused_where_the_signature_allows_no_missing_values() -> None:
    sig = Signature(inputs=(ColumnSpec("x", "float64"), ColumnSpec("y", "float64", True)))
    checker = InputValidator(sig)
    with pytest.raises(SchemaMismatch, match=r"'x' has a missing value \(null/NaN\) at row 1"):
        checker.validate(parse_body(b'[{"x": 1, "y": 1}, {"x": NaN, "y": 2}]', None))
    ok = checker.validate(parse_body(b'[{"x": 1, "y": NaN}, {"x": 2, "y": null}]', None))
    assert np.isnan(ok.columns["y"]).all() and ok.native


def test_float_columns_checked_together_keep_every_rule() -> None:
    """Float columns of one dtype are converted in one NumPy call when they hold only numbers;
    anything else goes column by column, with the same results and the same messages."""
    sig = Signature(inputs=tuple(ColumnSpec(f"f{i}", "float64") for i in range(4)))
    checker = InputValidator(sig)
    ok = checker.validate(parse_json([{"f0": 1, "f1": 2.5, "f2": -3, "f3": 0.0}] * 2))
    assert ok.native and list(ok.columns) == ["f0", "f1", "f2", "f3"]
    assert [ok.columns[f"f{i}"].tolist() for i in range(4)] == [
        [1.0] * 2,
        [2.5] * 2,
        [-3.0] * 2,
        [0.0] * 2,
    ]
    assert all(a.dtype == np.float64 and a.shape == (2,) for a in ok.columns.values())
    text = checker.validate(parse_json([{"f0": "1.5", "f1": 2, "f2": 3, "f3": 4}]))
    assert text.columns["f0"].tolist() == [1.5] and text.columns["f3"].tolist() == [4.0]
    with pytest.raises(SchemaMismatch) as info:
        checker.validate(parse_json([{"f0": True, "f1": None, "f2": "x"}]))
    fields = {f.field: f.message for f in info.value.fields}
    assert set(fields) == {"f0", "f1", "f2", "f3"}
    assert "is not a number" in fields["f0"] and "is not a number" in fields["f2"]
    assert "missing value" in fields["f1"] and fields["f3"] == "column 'f3' is missing"


@pytest.mark.parametrize(
    ("dtype", "values", "expected"),
    [
        ("int64", [1, "2", 3.0], [1, 2, 3]),
        ("int32", [-5, " 7 "], [-5, 7]),
        ("float32", [1, "2.5"], [1.0, 2.5]),
        ("bool", [0, 1, "TRUE", " false "], [False, True, True, False]),
        ("string", ["a", 1, True], ["a", "1", "True"]),
        ("datetime64[ns]", ["2024-05-01", "2024-05-01T10:00:00Z"], None),
        ("object", [{"a": 1}, [1]], [{"a": 1}, [1]]),
    ],
)
def test_lossless_conversions(dtype: str, values: list[object], expected: list[object]) -> None:
    checked = InputValidator(Signature(inputs=(ColumnSpec("v", dtype),))).validate(
        parse_json({"inputs": {"v": values}})
    )
    got = checked.columns["v"]
    if expected is not None:
        assert (got.tolist() if isinstance(got, np.ndarray) else got) == expected


@pytest.mark.parametrize(
    ("dtype", "values", "match"),
    [
        ("int8", [1, 300], "out of range for int8"),
        ("uint8", [-1], "out of range for uint8"),
        ("int64", [True], "not a number"),
        ("float64", [[1.0]], "not a number"),
        ("float64", [False], "not a number"),
        ("string", [1.5], "not a string"),
        ("datetime64[ns]", ["yesterday"], "ISO 8601"),
        ("datetime64[ns]", [20240501], "ISO 8601"),
        ("bool", ["maybe"], "not a boolean"),
    ],
)
def test_wrong_types_are_refused(dtype: str, values: list[object], match: str) -> None:
    with pytest.raises(SchemaMismatch, match=match):
        InputValidator(Signature(inputs=(ColumnSpec("v", dtype),))).validate(
            parse_json({"inputs": {"v": values}})
        )


def test_counts_more_bad_values_in_one_column() -> None:
    with pytest.raises(SchemaMismatch, match=r"value 'a' at row 1 is not a number \(2 more"):
        InputValidator(Signature(inputs=(ColumnSpec("v", "float64"),))).validate(
            parse_json({"inputs": {"v": [1, "a", "b", "c"]}})
        )


def test_nullable_integers_keep_missing_values_for_the_registry() -> None:
    sig = Signature(inputs=(ColumnSpec("n", "int64", nullable=True),))
    checked = InputValidator(sig).validate(parse_json({"inputs": {"n": [1, None, "3"]}}))
    assert checked.columns["n"] == [1, None, 3] and not checked.native


def test_positional_rows_need_a_tensor_signature() -> None:
    with pytest.raises(SchemaMismatch, match="cannot be matched to the model's columns"):
        InputValidator(SIG).validate(parse_json([[1, 2]]))
    tensor = InputValidator(Signature(inputs=TensorSpec("float64", (-1, 2))))
    checked = tensor.validate(parse_json({"instances": [[1, 2], [3, 4]]}))
    assert checked.tensor is not None and checked.tensor.shape == (2, 2)
    with pytest.raises(SchemaMismatch, match="shape"):
        tensor.validate(parse_json({"instances": [[1, 2, 3]]}))
    with pytest.raises(SchemaMismatch, match="takes an array"):
        tensor.validate(parse_json([{"a": 1}]))


def test_without_a_signature_columns_pass_unchecked() -> None:
    checked = InputValidator(None).validate(parse_json([{"a": 1, "b": "x"}]))
    assert checked.columns == {"a": [1], "b": ["x"]}


def test_concat_keeps_request_order_and_types() -> None:
    checker = InputValidator(Signature(inputs=(ColumnSpec("x", "float64"),)))
    parts = [checker.validate(parse_json({"inputs": {"x": [i, i + 0.5]}})) for i in range(3)]
    joined = concat_inputs(parts)
    assert joined.native and joined.n_rows == 6
    assert joined.columns["x"].tolist() == [0, 0.5, 1, 1.5, 2, 2.5]
    mixed = [InputValidator(SIG).validate(parse_json([ROW])) for _ in range(2)]
    both = concat_inputs(mixed)
    assert both.columns["age"] == [31, 31] and both.columns["plan"] == ["pro", "pro"]


def test_input_records_are_built_lazily_as_dicts() -> None:
    checked = InputValidator(SIG).validate(parse_json([ROW, ROW]))
    records = InputRecords(checked)
    assert len(records) == 2
    assert list(records)[1] == ROW
    assert records[0] == ROW


def test_record_model_documents_columns_types_and_levels() -> None:
    model = record_model("churn-v2", SIG)
    assert model is not None
    schema = model.model_json_schema(by_alias=True)
    assert schema["title"] == "ChurnV2Record"
    props = schema["properties"]
    assert props["age"]["type"] == "integer" and props["income"]["type"] == "number"
    assert props["plan"]["enum"] == ["basic", "pro"]
    assert props["active"]["type"] == "boolean"
    assert set(schema["required"]) == {"age", "income", "plan", "city", "active"}
    assert record_model("t", Signature(inputs=TensorSpec("float64", (-1, 2)))) is None
    assert record_model("t", None) is None


def test_infinity_is_refused_at_parse_time() -> None:
    for body in (b'[{"x": Infinity}]', b'[{"x": -Infinity}]'):
        with pytest.raises(InvalidArgument, match="infinite values"):
            parse_body(body, None)
