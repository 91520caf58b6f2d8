"""The team online store: Redis (``redis://host:6379/0?prefix=shipyard:``).

Each entity of a view is one string key ``{prefix}{view}:{encoded key}`` whose value is the event
time (20 decimal digits: microseconds + 2**63, so it sorts and compares exactly) followed by the
packed record of feature values (``codec.py``). The view's feature types live in the hash
``{prefix}{view}:types`` and the layouts of its records in ``{prefix}{view}:layouts`` (entity
keys always start with a digit, ``-`` or ``"``, so they never collide with either).

A write batch is one Lua script call: for each key it keeps the stored value when that is newer,
else sets the new one, atomically, so every entity is all-or-nothing and concurrent writers
cannot interleave. A read is one pipelined round trip (``HGETALL`` of the types + ``MGET``),
plus one ``HGETALL`` of the layouts the first time a layout is seen.
``delete_view`` walks ``SCAN MATCH {prefix}{view}:*`` and ``UNLINK``s what it finds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pyarrow as pa
import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from shipyard._util import check_name
from shipyard.errors import ConfigError, InvalidArgument, StoreUnavailable
from shipyard.features.online.base import (
    BATCH_ROWS,
    Progress,
    assemble,
    check_request,
    encode_keys,
    merge_types,
    prepare_write,
)
from shipyard.features.online.codec import Layout, layout_id

DEFAULT_PREFIX = "shipyard:"
START_COMMAND = "redis-server --daemonize yes"
TS_OFFSET = 2**63
TS_DIGITS = 20
TYPES_SUFFIX = "types"
LAYOUTS_SUFFIX = "layouts"
SCAN_COUNT = 1000

# KEYS: entity keys; ARGV: values, same order. Returns how many were set. The event times are
# compared as two 10-digit halves: Lua numbers are doubles, exact only below 2**53.
_WRITE_SCRIPT = """
local n = 0
for i, key in ipairs(KEYS) do
  local new = ARGV[i]
  local old = redis.call('GET', key)
  local set = not old
  if old then
    local oh, nh = tonumber(string.sub(old, 1, 10)), tonumber(string.sub(new, 1, 10))
    set = nh > oh or (nh == oh and
      tonumber(string.sub(new, 11, 20)) >= tonumber(string.sub(old, 11, 20)))
  end
  if set then
    redis.call('SET', key, new)
    n = n + 1
  end
end
return n
"""


def split_url(url: str) -> tuple[str, str, str]:
    """``(client URL without prefix, key prefix, URL safe to display)``.

    >>> split_url("redis://:s3cret@127.0.0.1:6379/0?prefix=t1:")
    ('redis://:s3cret@127.0.0.1:6379/0', 't1:', 'redis://:***@127.0.0.1:6379/0?prefix=t1:')
    """
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"{url!r} is not a Redis URL; use redis://host:6379/0")
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefixes = [v for k, v in query if k == "prefix"]
    prefix = prefixes[-1] if prefixes else DEFAULT_PREFIX
    rest = urlencode([(k, v) for k, v in query if k != "prefix"])
    client_url = urlunsplit(parts._replace(query=rest))
    netloc = parts.netloc
    if parts.password is not None:
        user = parts.username or ""
        netloc = f"{user}:***@{netloc.rsplit('@', 1)[1]}"
    safe = urlunsplit(parts._replace(netloc=netloc))
    return client_url, prefix, safe


def glob_escape(text: str) -> str:
    """``text`` with Redis glob characters escaped, for ``SCAN MATCH``."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


class RedisOnlineStore:
    """Online store in Redis; thread-safe (redis-py's connection pool), cheap to build.

    >>> store = RedisOnlineStore("redis://127.0.0.1:6379/0?prefix=doc:")  # not connected yet
    >>> store.prefix
    'doc:'
    """

    def __init__(self, url: str, *, batch_rows: int = BATCH_ROWS) -> None:
        self._client_url, self.prefix, self.url = split_url(url)
        self._batch_rows = max(1, batch_rows)
        self._lock = threading.Lock()
        self._redis: redis.Redis | None = None
        self._script: Any = None
        self._layouts: dict[bytes, Layout] = {}  # by id: content-addressed, never stale

    # -- connection --------------------------------------------------------------------------------

    def _client(self) -> redis.Redis:
        if self._redis is not None:
            return self._redis
        with self._lock:
            if self._redis is None:
                try:
                    self._redis = redis.Redis.from_url(
                        self._client_url,
                        socket_connect_timeout=5,
                        socket_timeout=30,
                        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 2),
                    )
                except ValueError as exc:
                    raise ConfigError(f"online store URL {self.url}: {exc}") from exc
                self._script = self._redis.register_script(_WRITE_SCRIPT)
            return self._redis

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise StoreUnavailable(
                f"online store {self.url} cannot be reached: {exc}. Start Redis with: "
                f"{START_COMMAND} (or point SHIPYARD_ONLINE_STORE_URI at a running server)"
            ) from exc
        except redis.RedisError as exc:
            raise StoreUnavailable(f"online store {self.url} failed: {exc}") from exc

    def _key(self, view: str, key: str) -> str:
        return f"{self.prefix}{view}:{key}"

    def _types_key(self, view: str) -> str:
        return f"{self.prefix}{view}:{TYPES_SUFFIX}"

    def _layouts_key(self, view: str) -> str:
        return f"{self.prefix}{view}:{LAYOUTS_SUFFIX}"

    def _load_layouts(self, client: redis.Redis, view: str) -> None:
        for lid, spec in client.hgetall(self._layouts_key(view)).items():
            text = lid.decode() if isinstance(lid, bytes) else lid
            self._layouts[bytes.fromhex(text)] = Layout.from_spec(spec)

    # -- the protocol ----------------------------------------------------------------------------

    def write(
        self,
        view: str,
        table: pa.Table,
        *,
        keys: Sequence[str],
        timestamp: str,
        features: Sequence[str],
        progress: Progress | None = None,
    ) -> int:
        """Upsert entities (see :class:`~shipyard.features.online.base.OnlineStore`)."""
        prepared = prepare_write(view, table, keys, timestamp, features)
        client = self._client()
        with self._errors():
            self._register_types(client, view, prepared.types)
            layout = prepared.layout
            client.hset(self._layouts_key(view), layout.id.hex(), layout.spec)
        applied = 0
        for start, stop, done in prepared.batches(self._batch_rows):
            names = [self._key(view, k) for k in prepared.keys[start:stop]]
            values = [
                b"%020d%b" % (ts + TS_OFFSET, record)
                for ts, record in zip(
                    prepared.micros[start:stop], prepared.records[start:stop], strict=True
                )
            ]
            with self._errors():
                applied += int(self._script(keys=names, args=values, client=client))
            if progress is not None:
                progress(done)
        if progress is not None and not prepared.keys:
            progress(prepared.input_rows)
        return applied

    def _register_types(self, client: redis.Redis, view: str, types: dict[str, str]) -> None:
        """Add the write's feature types to the view's hash; WATCH makes check-and-set atomic."""
        if not types:
            return
        name = self._types_key(view)

        def check_and_set(pipe: Any) -> None:
            stored = {k.decode(): v.decode() for k, v in pipe.hgetall(name).items()}
            updates = merge_types(view, stored, types)
            pipe.multi()
            if updates:
                pipe.hset(name, mapping=updates)

        client.transaction(check_and_set, name)

    def read(
        self, view: str, entities: pa.Table, *, keys: Sequence[str], features: Sequence[str]
    ) -> pa.Table:
        """Look entities up (see :class:`~shipyard.features.online.base.OnlineStore`)."""
        view, key_names, names = check_request(view, entities, keys, features)
        row_keys = encode_keys(entities, key_names)
        wanted = list(dict.fromkeys(k for k in row_keys if k is not None))
        client = self._client()
        with self._errors():
            pipe = client.pipeline(transaction=False)
            pipe.hgetall(self._types_key(view))
            if wanted:
                pipe.mget([self._key(view, k) for k in wanted])
            replies = pipe.execute()
        stored = {k.decode(): v.decode() for k, v in replies[0].items()}
        found: dict[str, tuple[int, bytes]] = {}
        for key, value in zip(wanted, replies[1] if wanted else [], strict=True):
            if value is not None:
                found[key] = (int(value[:TS_DIGITS]) - TS_OFFSET, value[TS_DIGITS:])
        try:
            if any(layout_id(v) not in self._layouts for _, v in found.values()):
                with self._errors():
                    self._load_layouts(client, view)
            return assemble(row_keys, found, names, stored, self._layouts)
        except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as exc:
            raise InvalidArgument(
                f"stored values of view {view!r} in {self.url} do not match their registered "
                f"types ({exc}); delete_view({view!r}) and re-materialize"
            ) from exc

    def delete_view(self, view: str) -> int:
        """Delete ``view``'s keys and feature types; returns the entities removed."""
        check_name(view, "feature view")
        client = self._client()
        pattern = glob_escape(f"{self.prefix}{view}:") + "*"
        own = {self._types_key(view).encode(), self._layouts_key(view).encode()}
        removed = 0
        with self._errors():
            batch: list[bytes] = []
            for key in client.scan_iter(match=pattern, count=SCAN_COUNT):
                batch.append(key)
                if len(batch) >= SCAN_COUNT:
                    removed += self._unlink(client, batch, own)
                    batch = []
            removed += self._unlink(client, batch, own)
        return removed

    @staticmethod
    def _unlink(client: redis.Redis, batch: list[bytes], own: set[bytes]) -> int:
        """Unlink ``batch``; returns how many were entities (not the view's ``own`` hashes)."""
        if not batch:
            return 0
        client.unlink(*batch)
        return sum(1 for k in batch if k not in own)

    def close(self) -> None:
        """Disconnect the connection pool; a later call reconnects."""
        with self._lock:
            if self._redis is not None:
                self._redis.close()
                self._redis = None


__all__ = ["DEFAULT_PREFIX", "START_COMMAND", "RedisOnlineStore", "glob_escape", "split_url"]
