"""A small, safe expression language for derived columns (``total_charges / tenure``).

The text is parsed with :func:`ast.parse` (``mode="eval"``) and the tree is checked against a
whitelist before anything runs; it is then walked and evaluated column-wise with pandas and
numpy. Nothing is ever given to ``eval`` or ``compile``, and there is no way to reach an
attribute, a subscript, an import or any function outside :data:`FUNCTIONS`.

Allowed: numbers, 'strings', ``True``/``False``, column names (Python identifiers), ``+ - * / //
% **``, unary ``-``/``+``, comparisons (``== != < <= > >=``, chains such as ``0 < x < 1``),
``and``/``or``/``not``, parentheses and the functions in :data:`FUNCTIONS`. Numbers are
float64; a result that would be infinite (``x / 0``, ``log(0)``, overflow) is NaN instead.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shipyard.errors import InvalidArgument

MAX_LENGTH = 2000
MAX_DEPTH = 200

FUNCTIONS: dict[str, tuple[int, int, str]] = {
    # name: (fewest arguments, most arguments, what it does)
    "abs": (1, 1, "abs(x): absolute value"),
    "log": (1, 1, "log(x): natural logarithm (NaN for x <= 0)"),
    "log1p": (1, 1, "log1p(x): log(1 + x)"),
    "exp": (1, 1, "exp(x): e to the power x"),
    "sqrt": (1, 1, "sqrt(x): square root (NaN for x < 0)"),
    "min": (2, 2, "min(a, b): the smaller of two values, row by row"),
    "max": (2, 2, "max(a, b): the larger of two values, row by row"),
    "clip": (3, 3, "clip(x, low, high): x limited to [low, high]"),
    "where": (3, 3, "where(condition, a, b): a where the condition holds, else b"),
    "isnull": (1, 1, "isnull(x): true where x is missing"),
    "fillna": (2, 2, "fillna(x, value): x with missing values replaced by value"),
    "round": (1, 2, "round(x, digits=0): rounded half to even"),
}

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.true_divide,
    ast.FloorDiv: np.floor_divide,
    ast.Mod: np.mod,
    ast.Pow: np.power,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}
_ALLOWED = (
    "numbers, 'strings', True/False, column names, + - * / // % **, unary -, comparisons "
    "(== != < <= > >=), and/or/not, parentheses and the functions " + ", ".join(sorted(FUNCTIONS))
)
_NODE_NAMES = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.IfExp: "'a if c else b' (use where(c, a, b))",
    ast.NamedExpr: "assignment (:=)",
    ast.Starred: "*arguments",
    ast.JoinedStr: "f-strings",
}

Value = Any  # a pandas Series, a numpy float64, a str or a bool


@dataclass(frozen=True)
class Expression:
    """A parsed, checked expression; :meth:`evaluate` computes it over a DataFrame.

    >>> import pandas as pd
    >>> expr = parse_expression("total / tenure")
    >>> expr.columns
    ('tenure', 'total')
    >>> expr.evaluate(pd.DataFrame({"total": [10.0, 5.0], "tenure": [2, 0]})).tolist()
    [5.0, nan]
    """

    text: str
    columns: tuple[str, ...]
    tree: ast.expr = field(repr=False, compare=False)

    def evaluate(self, frame: pd.DataFrame) -> pd.Series:
        """The expression's value for every row of ``frame``, as a Series on its index.

        Numeric and boolean results are float64 (true is 1.0) with infinities as NaN; text
        results keep their values. Raises InvalidArgument for a missing column or an operation
        on the wrong kind of value (arithmetic on text, ``and`` on numbers).
        """
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise InvalidArgument(
                f"expression {self.text!r} uses column(s) {missing} that are not in the data"
            )
        with np.errstate(all="ignore"):
            value = _Evaluator(frame, self.text).visit(self.tree)
        if not isinstance(value, pd.Series):
            value = pd.Series([value] * len(frame), index=frame.index)
        return _finish(value)


def parse_expression(text: str) -> Expression:
    """Parse and check ``text`` (cached, since steps re-parse it at each call).

    Raises InvalidArgument naming the offending token and what is allowed.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument(f"an expression must be non-empty text, got {text!r}")
    if len(text) > MAX_LENGTH:
        raise InvalidArgument(f"an expression is at most {MAX_LENGTH} characters long")
    return _parse(text)


@functools.lru_cache(maxsize=512)
def _parse(text: str) -> Expression:
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise InvalidArgument(
            f"expression {text!r} does not parse: {exc.msg} (column {exc.offset}); allowed: "
            f"{_ALLOWED}"
        ) from exc
    except (RecursionError, MemoryError) as exc:
        raise InvalidArgument(f"expression {text[:80]!r}… is nested too deeply") from exc
    columns: set[str] = set()
    _check(tree.body, text.strip(), columns)
    return Expression(text, tuple(sorted(columns)), tree.body)


def _check(node: ast.AST, text: str, columns: set[str], depth: int = 0) -> None:
    """Walk the tree, refusing every node outside the grammar; collect column names."""
    if depth > MAX_DEPTH:
        raise InvalidArgument(
            f"expression {text[:80]!r}… is nested more than {MAX_DEPTH} levels deep; split it "
            "into several Derive steps"
        )
    if isinstance(node, ast.Name):
        columns.add(node.id)
        return
    if isinstance(node, ast.Constant):
        _check_constant(node, text)
        return
    if isinstance(node, ast.Call):
        _check_call(node, text)
        for arg in node.args:
            _check(arg, text, columns, depth + 1)
        return
    ok = (
        (isinstance(node, ast.BinOp) and type(node.op) in _BINARY)
        or (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd | ast.Not))
        or (isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops))
        or isinstance(node, ast.BoolOp)
    )
    if not ok:
        raise _refuse(node, text)
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, ast.operator | ast.unaryop | ast.cmpop | ast.boolop):
            _check(child, text, columns, depth + 1)


def _check_constant(node: ast.Constant, text: str) -> None:
    if isinstance(node.value, bool | int | float | str):
        return
    raise InvalidArgument(
        f"{_segment(node, text)!r} in expression {text!r} is not allowed: constants are "
        "numbers, 'strings', True and False (use isnull(x) to test for missing values)"
    )


def _check_call(node: ast.Call, text: str) -> None:
    name = node.func.id if isinstance(node.func, ast.Name) else None
    if name not in FUNCTIONS:
        called = name or _segment(node.func, text)
        raise InvalidArgument(
            f"unknown function {called!r} in expression {text!r}; allowed functions: "
            f"{', '.join(sorted(FUNCTIONS))}"
        )
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise InvalidArgument(
            f"{name}() in expression {text!r} takes plain positional arguments: "
            f"{FUNCTIONS[name][2]}"
        )
    low, high, usage = FUNCTIONS[name]
    if not low <= len(node.args) <= high:
        raise InvalidArgument(
            f"{name}() in expression {text!r} got {len(node.args)} argument(s); usage: {usage}"
        )
    if name == "round" and len(node.args) == 2:
        digits = node.args[1]
        if not (isinstance(digits, ast.Constant) and type(digits.value) is int):
            raise InvalidArgument(f"round() in {text!r}: digits must be a whole number like 2")


def _refuse(node: ast.AST, text: str) -> InvalidArgument:
    what = _NODE_NAMES.get(type(node), type(node).__name__)
    return InvalidArgument(
        f"{_segment(node, text)!r} in expression {text!r} is not allowed ({what}); "
        f"allowed: {_ALLOWED}"
    )


def _segment(node: ast.AST, text: str) -> str:
    return ast.get_source_segment(text, node) or type(node).__name__


class _Evaluator:
    """Evaluates a checked tree over ``frame``; every method returns a Value."""

    def __init__(self, frame: pd.DataFrame, text: str) -> None:
        self.frame = frame
        self.text = text

    def visit(self, node: ast.expr) -> Value:
        if isinstance(node, ast.Name):
            return self.frame[node.id]
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool | str):
                return value
            return np.float64(value) if isinstance(value, int | float) else value
        if isinstance(node, ast.BinOp):
            left, right = self.number(node.left), self.number(node.right)
            return _no_inf(_BINARY[type(node.op)](left, right))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                flag = self.boolean(node.operand)
                return ~flag if isinstance(flag, pd.Series) else not flag
            value = self.number(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.BoolOp):
            values = [self.boolean(v) for v in node.values]
            combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            return functools.reduce(combine, values)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise _refuse(node, self.text)  # unreachable after _check; kept as a guard

    def number(self, node: ast.expr) -> Value:
        value = self.visit(node)
        if isinstance(value, pd.Series):
            if pd.api.types.is_bool_dtype(value.dtype) or pd.api.types.is_numeric_dtype(
                value.dtype
            ):
                return value.astype("float64")
            return self._coerce(value, node)
        if isinstance(value, str):
            raise InvalidArgument(
                f"{_segment(node, self.text)!r} in expression {self.text!r} is text; "
                "arithmetic needs numbers"
            )
        return np.float64(value)

    def _coerce(self, value: pd.Series, node: ast.expr) -> pd.Series:
        """Numbers stored as text become float64 (blank is missing); other text is an error."""
        from shipyard.data.preprocess._frame import to_float

        return to_float(value, _segment(node, self.text), f"expression {self.text!r}")

    def boolean(self, node: ast.expr) -> Value:
        value = self.visit(node)
        if isinstance(value, bool | np.bool_):
            return bool(value)
        if isinstance(value, pd.Series) and pd.api.types.is_bool_dtype(value.dtype):
            return value.astype(bool)
        raise InvalidArgument(
            f"{_segment(node, self.text)!r} in expression {self.text!r} is not true/false; "
            "and/or/not and where() need a comparison such as x > 0"
        )

    def compare(self, node: ast.Compare) -> Value:
        left = self.visit(node.left)
        result: Value = True
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.visit(right_node)
            try:
                outcome = _COMPARE[type(op)](left, right)
            except TypeError as exc:
                raise InvalidArgument(
                    f"cannot compare {_segment(node, self.text)!r} in expression "
                    f"{self.text!r}: {exc}"
                ) from exc
            result = np.logical_and(result, outcome)
            left = right
        return _as_bool(result)

    def call(self, node: ast.Call) -> Value:
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        if name == "isnull":
            value = self.visit(node.args[0])
            return value.isna() if isinstance(value, pd.Series) else bool(pd.isna(value))
        if name == "fillna":
            value, fill = self.visit(node.args[0]), self.visit(node.args[1])
            return _fillna(value, fill)
        if name == "where":
            return self.where(node)
        args = [self.number(a) for a in node.args]
        if name == "round":
            return np.round(args[0], _digits(node))
        return _no_inf(_NUMERIC[name](*args))

    def where(self, node: ast.Call) -> Value:
        cond = self.boolean(node.args[0])
        a, b = self.visit(node.args[1]), self.visit(node.args[2])
        if not isinstance(cond, pd.Series):
            return a if cond else b
        a_series = a if isinstance(a, pd.Series) else pd.Series([a] * len(cond), index=cond.index)
        try:
            return a_series.where(cond, b)
        except (TypeError, ValueError):  # text and numbers mixed: fall back to object values
            return a_series.astype(object).where(cond, b)


_NUMERIC: dict[str, Callable[..., Any]] = {
    "abs": np.abs,
    "log": np.log,
    "log1p": np.log1p,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "min": np.minimum,
    "max": np.maximum,
    "clip": lambda x, low, high: np.minimum(np.maximum(x, low), high),
}


def _digits(node: ast.Call) -> int:
    digits = node.args[1] if len(node.args) == 2 else None
    value = digits.value if isinstance(digits, ast.Constant) else 0
    return value if isinstance(value, int) else 0


def _as_bool(value: Value) -> Value:
    if isinstance(value, pd.Series):
        return value.astype(bool)
    return bool(value)


def _fillna(value: Value, fill: Value) -> Value:
    if isinstance(value, pd.Series):
        return (
            value.fillna(fill)
            if not isinstance(fill, pd.Series)
            else value.where(value.notna(), fill)
        )
    return fill if pd.isna(value) else value


def _no_inf(value: Value) -> Value:
    """Infinite results become NaN, so a derived column never holds an infinity."""
    if isinstance(value, pd.Series):
        return value.where(~np.isinf(value))
    return np.float64(np.nan) if np.isinf(value) else value


def _finish(value: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(value.dtype):
        return value.astype("float64")
    if pd.api.types.is_numeric_dtype(value.dtype):
        return _no_inf(value.astype("float64"))  # type: ignore[no-any-return]
    return value
