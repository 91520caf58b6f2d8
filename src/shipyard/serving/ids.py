"""Prediction ids: unique, sortable by time, made many at a time without a per-row Python call.

An id is 28 lowercase hex characters: 12 for the milliseconds since the Unix epoch when it was
made, then 16 from one ``os.urandom(8 * n)`` call for the whole batch (64 random bits per id).
Ids therefore sort by the millisecond they were made in, and two ids made in the same millisecond
collide with probability about n²/2⁶⁵ (one in 36 million for a billion ids in one millisecond).
A uuid4 per row costs ~1 µs of Python each; these cost a few nanoseconds.

>>> ids = new_ids(3)
>>> len(set(ids)), {len(i) for i in ids} == {ID_LENGTH}
(3, True)
>>> id_time_ms(ids[0]) <= id_time_ms(new_ids(1)[0])
True
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

import numpy as np
import pyarrow as pa

from shipyard.errors import InvalidArgument

ID_LENGTH = 28
"""Characters in a prediction id: 12 hex of milliseconds, 16 hex of random bits."""

_TIME_HEX = 12
_RANDOM_BYTES = 8
_ID = re.compile(r"[0-9a-f]{28}")
_MAX_STRING_BYTES = 2**31 - 1  # a pa.string() array addresses its bytes with int32 offsets
# byte value -> its two hex characters, as one little-endian uint16 (so one gather per byte)
_HEX_PAIRS = np.frombuffer(bytes(range(256)).hex().encode("ascii"), dtype="<u2")


def _check_count(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise InvalidArgument(f"the number of ids must be a whole number >= 0, got {n!r}")
    return int(n)


def _id_chars(n: int, now_ms: int | None = None) -> np.ndarray[Any, np.dtype[np.uint16]]:
    """An (n, 14) array of hex character pairs (28 bytes a row): the shared time prefix, then
    each id's 8 random bytes in hex."""
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    pairs = np.empty((n, ID_LENGTH // 2), dtype="<u2")
    pairs[:, : _TIME_HEX // 2] = np.frombuffer(f"{ms:012x}".encode("ascii"), dtype="<u2")
    rand = np.frombuffer(os.urandom(_RANDOM_BYTES * n), dtype=np.uint8)
    pairs[:, _TIME_HEX // 2 :] = _HEX_PAIRS[rand].reshape(n, _RANDOM_BYTES)
    return pairs


def new_id_array(n: int, *, now_ms: int | None = None) -> pa.StringArray:
    """``n`` new ids as an Arrow string array, built straight from one buffer (no Python strings).

    ``now_ms`` sets the time prefix (default: now). Raises InvalidArgument for a negative or
    non-integer ``n``, or more than 76 million ids at once (a string array's int32 offsets).

    >>> new_id_array(2).type
    DataType(string)
    """
    n = _check_count(n)
    if n * ID_LENGTH > _MAX_STRING_BYTES:
        raise InvalidArgument(
            f"{n} ids do not fit one string array; make them in batches of at most "
            f"{_MAX_STRING_BYTES // ID_LENGTH}"
        )
    data = pa.py_buffer(_id_chars(n, now_ms))
    offsets = np.arange(0, (n + 1) * ID_LENGTH, ID_LENGTH, dtype=np.int32)
    array: pa.StringArray = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), data)
    return array


def new_ids(n: int) -> list[str]:
    """``n`` new prediction ids as Python strings: unique, sortable by the millisecond made.

    Raises InvalidArgument for a negative or non-integer ``n``.

    >>> [len(i) for i in new_ids(2)]
    [28, 28]
    """
    n = _check_count(n)
    if n == 1:  # a single-row request: plain Python is 5x faster than the array path
        return [f"{time.time_ns() // 1_000_000:012x}{os.urandom(_RANDOM_BYTES).hex()}"]
    ids: list[str] = _id_chars(n).view(f"S{ID_LENGTH}").ravel().astype(f"U{ID_LENGTH}").tolist()
    return ids


def id_time_ms(prediction_id: str) -> int:
    """The milliseconds since the epoch at which ``prediction_id`` was made.

    Raises InvalidArgument when it is not a Shipyard prediction id (28 lowercase hex characters).

    >>> id_time_ms("0192a3b4c5d6" + "0" * 16)
    1729323386326
    """
    if not isinstance(prediction_id, str) or not _ID.fullmatch(prediction_id):
        raise InvalidArgument(
            f"{prediction_id!r} is not a prediction id: expected {ID_LENGTH} lowercase hex "
            "characters, as made by shipyard.serving.ids.new_ids"
        )
    return int(prediction_id[:_TIME_HEX], 16)


__all__ = ["ID_LENGTH", "id_time_ms", "new_id_array", "new_ids"]
