"""Prediction ids: unique, hex, sortable by the millisecond they were made in."""

from __future__ import annotations

import re
import time

import pyarrow as pa
import pytest

from shipyard.errors import InvalidArgument
from shipyard.serving.ids import ID_LENGTH, id_time_ms, new_id_array, new_ids

HEX_ID = re.compile(r"[0-9a-f]{28}")


def test_ids_are_unique_hex_and_carry_the_time() -> None:
    before = time.time_ns() // 1_000_000
    ids = new_ids(50_000)
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == 50_000
    assert all(HEX_ID.fullmatch(i) for i in ids)
    assert {len(i) for i in ids} == {ID_LENGTH}
    assert before <= id_time_ms(ids[0]) <= after


def test_ids_made_later_sort_after() -> None:
    first = new_ids(1_000)
    time.sleep(0.003)
    second = new_ids(1_000)
    assert max(first) < min(second)


def test_many_calls_never_collide() -> None:
    seen: set[str] = set()
    for _ in range(200):
        seen.update(new_id_array(5_000).to_pylist())
    assert len(seen) == 1_000_000


def test_arrow_array_is_a_valid_string_array() -> None:
    array = new_id_array(1_000, now_ms=1_700_000_000_000)
    array.validate(full=True)
    assert array.type == pa.string() and len(array) == 1_000
    values = array.to_pylist()
    assert all(HEX_ID.fullmatch(v) for v in values)
    assert {id_time_ms(v) for v in values} == {1_700_000_000_000}
    assert len(set(values)) == 1_000


def test_zero_ids() -> None:
    assert new_ids(0) == []
    assert len(new_id_array(0)) == 0


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_bad_counts_are_refused(bad: object) -> None:
    with pytest.raises(InvalidArgument, match="whole number"):
        new_ids(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="whole number"):
        new_id_array(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "xyz", "0" * 27, "G" * 28, "0192A3B4C5D6" + "0" * 16])
def test_id_time_refuses_what_is_not_an_id(bad: str) -> None:
    with pytest.raises(InvalidArgument, match="not a prediction id"):
        id_time_ms(bad)
