"""The derived-column expression language: what it computes, and everything it refuses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shipyard.data.preprocess import FUNCTIONS, parse_expression
from shipyard.errors import InvalidArgument


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "total": [100.0, 50.0, np.nan, 30.0],
            "tenure": [4, 0, 3, 1],
            "plan": ["pro", "basic", None, "pro"],
        }
    )


def values(text: str, frame: pd.DataFrame) -> list[object]:
    return parse_expression(text).evaluate(frame).tolist()


def test_division_by_zero_is_nan_not_inf(frame: pd.DataFrame) -> None:
    result = parse_expression("total / tenure").evaluate(frame)
    assert result.dtype == "float64"
    assert result.index.equals(frame.index)
    np.testing.assert_array_equal(result.to_numpy(), [25.0, np.nan, np.nan, 30.0])
    assert values("tenure // 0", frame) == pytest.approx([np.nan] * 4, nan_ok=True)
    assert values("log(tenure)", frame)[1] != values("log(tenure)", frame)[1]  # log(0) is NaN


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("total - tenure * 2", [92.0, 50.0, np.nan, 28.0]),
        ("-tenure + 1", [-3.0, 1.0, -2.0, 0.0]),
        ("tenure ** 2 % 5", [1.0, 0.0, 4.0, 1.0]),
        ("(total + 1) / 2", [50.5, 25.5, np.nan, 15.5]),
        ("abs(tenure - 2)", [2.0, 2.0, 1.0, 1.0]),
        ("sqrt(tenure)", [2.0, 0.0, np.sqrt(3), 1.0]),
        ("exp(0) + log1p(0)", [1.0, 1.0, 1.0, 1.0]),
        ("min(tenure, 2)", [2.0, 0.0, 2.0, 1.0]),
        ("max(tenure, 2)", [4.0, 2.0, 3.0, 2.0]),
        ("clip(tenure, 1, 3)", [3.0, 1.0, 3.0, 1.0]),
        ("fillna(total, 0)", [100.0, 50.0, 0.0, 30.0]),
        ("isnull(total)", [0.0, 0.0, 1.0, 0.0]),
        ("round(total / 3, 1)", [33.3, 16.7, np.nan, 10.0]),
        ("round(2.5)", [2.0, 2.0, 2.0, 2.0]),
        ("plan == 'pro'", [1.0, 0.0, 0.0, 1.0]),
        ("plan != 'pro'", [0.0, 1.0, 1.0, 0.0]),
        ("0 < tenure <= 3", [0.0, 0.0, 1.0, 1.0]),
        ("tenure > 1 and plan == 'pro'", [1.0, 0.0, 0.0, 0.0]),
        ("tenure == 0 or isnull(total)", [0.0, 1.0, 1.0, 0.0]),
        ("not tenure > 1", [0.0, 1.0, 0.0, 1.0]),
        ("where(tenure > 0, total / tenure, 0)", [25.0, 0.0, np.nan, 30.0]),
        ("where(True, 1, 2)", [1.0, 1.0, 1.0, 1.0]),
        ("7", [7.0, 7.0, 7.0, 7.0]),
    ],
)
def test_good_expressions(text: str, expected: list[float], frame: pd.DataFrame) -> None:
    result = parse_expression(text).evaluate(frame)
    assert result.dtype == "float64"
    np.testing.assert_allclose(result.to_numpy(), expected, equal_nan=True)


def test_text_results_keep_their_values(frame: pd.DataFrame) -> None:
    assert values("where(tenure > 2, 'long', 'short')", frame) == ["long", "short", "long", "short"]
    assert values("fillna(plan, 'none')", frame) == ["pro", "basic", "none", "pro"]


def test_columns_are_collected_and_functions_are_not_columns() -> None:
    expr = parse_expression("log(total) + where(plan == 'x', tenure, 0)")
    assert expr.columns == ("plan", "tenure", "total")
    assert sorted(FUNCTIONS) == sorted(
        [
            "abs",
            "log",
            "log1p",
            "exp",
            "sqrt",
            "min",
            "max",
            "clip",
            "where",
            "isnull",
            "fillna",
            "round",
        ]
    )


def test_numbers_as_text_and_overflow() -> None:
    frame = pd.DataFrame({"a": ["1.5", " "], "b": [1000.0, 1.0]})
    assert values("a * 2", frame) == pytest.approx([3.0, np.nan], nan_ok=True)
    assert values("exp(b)", frame) == pytest.approx([np.nan, np.e], nan_ok=True)
    assert values("10 ** 10 ** 10", frame) == pytest.approx([np.nan, np.nan], nan_ok=True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os')", r"unknown function '__import__'.*allowed functions: abs"),
        ("eval('1')", r"unknown function 'eval'"),
        ("open('/etc/passwd')", r"unknown function 'open'"),
        ("total.__class__", r"'total.__class__'.*attribute access"),
        ("abs.__globals__", r"attribute access"),
        ("log(total).real", r"attribute access"),
        ("total[0]", r"'total\[0\]'.*subscripts"),
        ("(lambda: 1)()", r"unknown function"),
        ("lambda x: x", r"lambda"),
        ("[x for x in total]", r"comprehensions"),
        ("(x for x in total)", r"comprehensions"),
        ("{x: 1 for x in total}", r"comprehensions"),
        ("1 if total else 2", r"where\(c, a, b\)"),
        ("(y := 1)", r"assignment"),
        ("f'{total}'", r"f-strings"),
        ("[1, 2]", r"List"),
        ("total @ tenure", r"BinOp"),
        ("total is None", r"Compare"),
        ("tenure in (1, 2)", r"Compare"),
        ("None", r"constants are numbers"),
        ("b'bytes'", r"constants are numbers"),
        ("~tenure", r"UnaryOp"),
        ("log(total, 2)", r"log\(\) .*got 2 argument.*usage: log\(x\)"),
        ("where(total > 1, 2)", r"usage: where\(condition, a, b\)"),
        ("round(total, tenure)", r"digits must be a whole number"),
        ("abs(x=total)", r"positional arguments"),
        ("abs(*total)", r"positional arguments"),
        ("total +", r"does not parse"),
        ("import os", r"does not parse"),
        ("", r"non-empty"),
    ],
)
def test_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        parse_expression(text)


def test_too_long_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="at most 2000"):
        parse_expression("+".join(["total"] * 500))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "plan * 2",
            r"expression 'plan \* 2': column 'plan' must hold numbers but has text such as \['pro'",
        ),
        ("'a' + 'b'", r"is text; arithmetic needs numbers"),
        ("tenure and plan == 'x'", r"'tenure' .* is not true/false"),
        ("where(tenure, 1, 2)", r"is not true/false"),
        ("plan < 3", r"cannot compare"),
        ("missing_col + 1", r"column\(s\) \['missing_col'\] that are not in the data"),
    ],
)
def test_wrong_values_at_evaluation(text: str, message: str, frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidArgument, match=message):
        parse_expression(text).evaluate(frame)


@pytest.mark.parametrize("text", ["a+" * 999 + "a", "-" * 1999 + "a"])
def test_deep_nesting_is_refused(text: str) -> None:
    with pytest.raises(InvalidArgument, match="nested"):
        parse_expression(text)


def test_non_text_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="non-empty text"):
        parse_expression(["a"])  # type: ignore[arg-type]
