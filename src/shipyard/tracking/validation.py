"""Checks of what a run may record, shared by the SDK (to fail at the call) and the store.

>>> check_param("lr", 0.1)
'0.1'
>>> check_metric("auc", "0.9", 3).value
0.9
"""

from __future__ import annotations

import json
import operator
from typing import Any

from shipyard._util import check_key
from shipyard.errors import InvalidArgument
from shipyard.tracking.entities import Metric

# The column sizes of params.value and tags.value in store/schema.py.
PARAM_VALUE_MAX = 6000
TAG_VALUE_MAX = 8000


def as_text(value: Any) -> str:
    """How a param or tag value is stored: strings as they are, lists and dicts as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str)
    return str(value)


def _checked(what: str, key: object, value: Any, max_len: int) -> str:
    check_key(key, what)
    text = as_text(value)
    if len(text) > max_len:
        raise InvalidArgument(
            f"{what} {key!r} value is {len(text)} characters; max {max_len}. "
            "Log long text as an artifact (log_dict/log_text) instead"
        )
    return text


def check_param(key: object, value: Any) -> str:
    """The stored text of a param; raises InvalidArgument for a bad key or an oversized value."""
    return _checked("param", key, value, PARAM_VALUE_MAX)


def check_tag(key: object, value: Any) -> str:
    """The stored text of a tag; raises InvalidArgument for a bad key or an oversized value."""
    return _checked("tag", key, value, TAG_VALUE_MAX)


def check_metric(key: object, value: Any, step: Any = 0, timestamp: int = 0) -> Metric:
    """A valid Metric; raises InvalidArgument for a bad key, a non-number or a non-integer step."""
    check_key(key, "metric")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"metric {key!r} value {value!r} is not a number") from exc
    try:
        if isinstance(step, bool):
            raise TypeError
        whole = operator.index(step)
    except TypeError as exc:
        if isinstance(step, float) and step.is_integer():
            whole = int(step)
        else:
            raise InvalidArgument(f"metric {key!r} step must be an integer, got {step!r}") from exc
    return Metric(str(key), number, whole, timestamp)
