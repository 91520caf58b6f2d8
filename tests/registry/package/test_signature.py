"""Signature inference, (de)serialization, input validation and compatibility."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from shipyard.errors import InvalidArgument
from shipyard.registry.package.signature import (
    ColumnSpec,
    Signature,
    TensorSpec,
    compatible,
    infer_signature,
)


@pytest.fixture
def mixed() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": np.array([31, 45, 52], dtype="int64"),
            "income": [51.5, np.nan, 70.25],
            "plan": ["basic", "pro", None],
            "tier": pd.Categorical(["a", "b", "a"], categories=["a", "b", "c"]),
            "active": [True, False, True],
            "since": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]).astype(
                "datetime64[ns]"
            ),
            "visits": pd.array([1, None, 3], dtype="Int64"),
        }
    )


def spec(sig: Signature, name: str) -> ColumnSpec:
    assert not isinstance(sig.inputs, TensorSpec)
    return next(c for c in sig.inputs if c.name == name)


# --------------------------------------------------------------------------- inference


def test_infer_column_dtypes_nullability_and_levels(mixed: pd.DataFrame) -> None:
    sig = infer_signature(mixed)
    got = {c.name: (c.dtype, c.nullable, c.levels) for c in sig.inputs}  # type: ignore[union-attr]
    assert got == {
        "age": ("int64", False, None),
        "income": ("float64", True, None),
        "plan": ("string", True, ("basic", "pro")),
        "tier": ("category", False, ("a", "b", "c")),
        "active": ("bool", False, None),
        "since": ("datetime64[ns]", False, None),
        "visits": ("int64", True, None),
    }
    assert sig.outputs is None
    assert sig.columns == list(mixed.columns)


def test_infer_levels_only_up_to_100_distinct_values() -> None:
    few = pd.DataFrame({"code": [f"c{i % 100}" for i in range(300)]})
    many = pd.DataFrame({"code": [f"c{i}" for i in range(101)]})
    assert spec(infer_signature(few), "code").levels is not None
    assert len(spec(infer_signature(few), "code").levels or ()) == 100
    assert spec(infer_signature(many), "code").levels is None


def test_infer_from_records_dict_and_object_columns() -> None:
    records = [{"x": 1, "flag": True, "name": "a"}, {"x": 2, "flag": None, "name": "b"}]
    sig = infer_signature(records)
    assert [(c.name, c.dtype, c.nullable) for c in sig.inputs] == [  # type: ignore[union-attr]
        ("x", "int64", False),
        ("flag", "bool", True),
        ("name", "string", False),
    ]
    assert infer_signature({"x": [1.5, 2.5]}).inputs == (ColumnSpec("x", "float64"),)


def test_infer_tensor_and_outputs() -> None:
    X = np.zeros((10, 4), dtype="float32")
    sig = infer_signature(X, np.array(["yes", "no"], dtype=object))
    assert sig.inputs == TensorSpec("float32", (-1, 4))
    assert sig.outputs == TensorSpec("string", (-1,))
    series_out = infer_signature(X, pd.Series([0.1, 0.2], name="score")).outputs
    assert series_out == (ColumnSpec("score", "float64"),)
    assert sig.columns is None


def test_infer_refuses_unnamed_columns_and_scalars() -> None:
    with pytest.raises(InvalidArgument, match="column names must be strings"):
        infer_signature(pd.DataFrame(np.zeros((2, 2))))
    with pytest.raises(InvalidArgument, match="scalar"):
        infer_signature(np.array(1.0))
    with pytest.raises(InvalidArgument, match="not tabular"):
        infer_signature("a string")


# --------------------------------------------------------------------------- serialization


def test_to_dict_round_trips_through_json(mixed: pd.DataFrame) -> None:
    sig = infer_signature(mixed, np.array([0, 1, 1]))
    again = Signature.from_dict(json.loads(json.dumps(sig.to_dict())))
    assert again == sig
    assert again.outputs == TensorSpec("int64", (-1,))


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"inputs": {"type": "columns", "columns": [{"name": 3, "dtype": "int64"}]}},
        {"inputs": {"type": "tensor", "dtype": "float64", "shape": "4"}},
        {"inputs": {"type": "matrix"}},
        {"inputs": {"type": "columns", "columns": [{"name": "a", "dtype": "x", "levels": "ab"}]}},
    ],
)
def test_from_dict_rejects_malformed(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument):
        Signature.from_dict(bad)


# --------------------------------------------------------------------------- validation


@pytest.fixture
def sig() -> Signature:
    return Signature(
        inputs=(
            ColumnSpec("age", "int64"),
            ColumnSpec("income", "float64", nullable=True),
            ColumnSpec("plan", "string", levels=("basic", "pro")),
        )
    )


def test_validate_accepts_records_dict_of_lists_and_one_record(sig: Signature) -> None:
    expected = pd.DataFrame({"age": [30], "income": [1.5], "plan": ["pro"]})
    for data in (
        [{"plan": "pro", "income": 1.5, "age": 30}],
        {"age": [30], "income": [1.5], "plan": ["pro"]},
        {"age": 30, "income": 1.5, "plan": "pro"},
        expected,
    ):
        out = sig.validate(data)
        assert isinstance(out, pd.DataFrame)
        assert list(out.columns) == ["age", "income", "plan"]
        assert out["age"].dtype == np.dtype("int64")
        assert out["income"].dtype == np.dtype("float64")
        assert out.iloc[0].tolist() == [30, 1.5, "pro"]


def test_validate_converts_losslessly_and_drops_extra_columns(sig: Signature) -> None:
    out = sig.validate(
        pd.DataFrame(
            {
                "extra": ["x", "y"],
                "age": [30.0, 41.0],  # integral floats are fine for an int column
                "income": ["2.5", None],  # numeric text converts; None is allowed (nullable)
                "plan": ["pro", "enterprise"],  # an unseen level is allowed
            }
        )
    )
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["age", "income", "plan"]
    assert out["age"].tolist() == [30, 41]
    assert out["age"].dtype == np.dtype("int64")
    assert out["income"].iloc[0] == 2.5
    assert np.isnan(out["income"].iloc[1])
    assert out["plan"].tolist() == ["pro", "enterprise"]


def test_validate_missing_column_names_it_and_the_expected_ones(sig: Signature) -> None:
    with pytest.raises(InvalidArgument) as err:
        sig.validate([{"age": 30, "plan": "pro"}])
    assert "missing column(s) ['income']" in str(err.value)
    assert "['age', 'income', 'plan']" in str(err.value)


@pytest.mark.parametrize(
    ("column", "value", "fragment"),
    [
        (
            "income",
            "abc",
            "column 'income' expects float64, but value 'abc' at row 1 is not a number",
        ),
        ("age", 2.5, "column 'age' expects int64, but value 2.5 at row 1 is not a whole number"),
        ("age", "ten", "column 'age' expects int64, but value 'ten' at row 1 is not a number"),
        ("age", None, "column 'age' expects int64, but row 1 is missing a value, and the"),
        ("plan", 1.5, "column 'plan' expects string, but value 1.5 at row 1 is not a string"),
    ],
)
def test_validate_wrong_type_names_column_dtype_and_value(
    sig: Signature, column: str, value: object, fragment: str
) -> None:
    rows = [{"age": 1, "income": 1.0, "plan": "pro"}, {"age": 2, "income": 2.0, "plan": "pro"}]
    rows[1][column] = value
    with pytest.raises(InvalidArgument) as err:
        sig.validate(rows)
    assert fragment in str(err.value)


def test_validate_counts_further_bad_values(sig: Signature) -> None:
    with pytest.raises(InvalidArgument, match=r"value 'x' at row 0 .*\(2 more such value"):
        sig.validate({"age": [1, 2, 3], "income": ["x", "y", "z"], "plan": ["pro"] * 3})


def test_validate_refuses_out_of_range_and_arrays() -> None:
    small = Signature(inputs=(ColumnSpec("n", "int8"),))
    with pytest.raises(InvalidArgument, match="out of range for int8"):
        small.validate({"n": [1, 300]})
    with pytest.raises(InvalidArgument, match="named columns"):
        small.validate(np.array([[1]]))
    with pytest.raises(InvalidArgument, match="rows without column names"):
        small.validate([[1], [2]])


def test_validate_other_dtypes() -> None:
    sig = Signature(
        inputs=(
            ColumnSpec("flag", "bool"),
            ColumnSpec("since", "datetime64[ns]"),
            ColumnSpec("tier", "category", levels=("a", "b")),
            ColumnSpec("zip", "string"),
            ColumnSpec("visits", "int64", nullable=True),
        )
    )
    out = sig.validate(
        {
            "flag": ["true", "0"],
            "since": ["2024-05-01", "2024-05-02T10:30:00"],
            "tier": ["b", "z"],
            "zip": [12345, 67890],
            "visits": [3.0, None],
        }
    )
    assert isinstance(out, pd.DataFrame)
    assert out["flag"].tolist() == [True, False]
    assert str(out["since"].dtype) == "datetime64[ns]"
    assert list(out["tier"].cat.categories) == ["a", "b", "z"]  # known levels keep their codes
    assert out["tier"].cat.codes.tolist() == [1, 2]
    assert out["zip"].tolist() == ["12345", "67890"]
    assert out["visits"].dtype == "Int64"
    assert out["visits"].isna().tolist() == [False, True]
    with pytest.raises(InvalidArgument, match=r"'since' expects datetime64.*'yesterday'"):
        sig.validate({**out.to_dict("list"), "since": ["2024-05-01", "yesterday"]})
    with pytest.raises(InvalidArgument, match=r"'flag' expects bool.*'maybe'"):
        sig.validate({**out.to_dict("list"), "flag": ["true", "maybe"]})


def test_validate_tensor_shape_and_dtype() -> None:
    sig = Signature(inputs=TensorSpec("float64", (-1, 3)))
    out = sig.validate([[1, 2, 3], [4, 5, 6]])
    assert isinstance(out, np.ndarray)
    assert out.dtype == np.float64
    assert out.shape == (2, 3)
    assert sig.validate(pd.DataFrame({"a": [1.0], "b": [2.0], "c": [3.0]})).shape == (1, 3)
    with pytest.raises(InvalidArgument, match=r"shape \(n, 3\), got shape \(2, 2\)"):
        sig.validate(np.ones((2, 2)))
    with pytest.raises(InvalidArgument, match=r"element \(1, 2\) is 'abc'"):
        sig.validate(np.array([["1", "2", "3"], ["4", "5", "abc"]], dtype=object))
    ints = Signature(inputs=TensorSpec("int64", (-1,)))
    assert ints.validate(np.array([1.0, 2.0])).dtype == np.int64
    with pytest.raises(InvalidArgument, match=r"element \(0,\) is 0.5"):
        ints.validate(np.array([0.5, 2.0]))


# --------------------------------------------------------------------------- compatibility


def test_compatible_lists_breaking_changes() -> None:
    old = Signature(
        inputs=(ColumnSpec("age", "int64", nullable=True), ColumnSpec("plan", "string")),
        outputs=(ColumnSpec("score", "float64"), ColumnSpec("label", "int64")),
    )
    assert compatible(old, old) == []
    widened = Signature(inputs=(ColumnSpec("age", "float64"),), outputs=old.outputs)
    assert compatible(old, widened) == []  # int -> float widening; dropped input is fine
    new = Signature(
        inputs=(
            ColumnSpec("age", "int64"),
            ColumnSpec("plan", "category"),
            ColumnSpec("region", "string"),
        ),
        outputs=(ColumnSpec("score", "float32"),),
    )
    assert compatible(old, new) == [
        "input column 'age' no longer accepts missing values",
        "input column 'plan' changed dtype from string to category",
        "input column 'region' (string) is new and required",
        "output column 'score' changed dtype from float64 to float32",
        "output column 'label' was removed",
    ]


def test_compatible_tensor_changes() -> None:
    old = Signature(inputs=TensorSpec("float64", (-1, 4)))
    assert compatible(old, Signature(inputs=TensorSpec("float64", (-1, 4)))) == []
    [problem] = compatible(old, Signature(inputs=TensorSpec("float64", (-1, 5))))
    assert "shape [-1, 4]" in problem and "shape [-1, 5]" in problem
    [problem] = compatible(old, Signature(inputs=(ColumnSpec("a", "float64"),)))
    assert "columns ['a']" in problem
