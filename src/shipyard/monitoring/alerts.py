"""Alerting after a check: evaluate the rules, de-duplicate, deliver with retries, record.

A rule that holds is sent to every channel unless the same rule of the same monitor was sent
within the ``cooldown`` (then it is recorded as ``suppressed``: de-duplicated). Each channel
gets ``attempts`` tries with exponential backoff (``backoff_s``, doubled each time); channels
are tried at the same time in worker threads, so one slow webhook does not hold the others,
and a channel that keeps failing is recorded as failed. Nothing here raises: a monitor's
check is never lost because an alert could not go out.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from shipyard import _util
from shipyard._util import now_ms
from shipyard.errors import InvalidArgument
from shipyard.monitoring.channels import AlertChannel, channel_from_dict
from shipyard.monitoring.entities import Alert, Check, Delivery
from shipyard.monitoring.rules import Rule, parse_rule
from shipyard.monitoring.service import MonitoringStore

log = logging.getLogger(__name__)

DEFAULT_COOLDOWN_S = 3600.0


@dataclass(frozen=True)
class AlertPolicy:
    """A monitor's alerting: rules, channels (the log when none is given), cool-down and
    retry settings."""

    rules: tuple[Rule, ...] = ()
    channels: tuple[AlertChannel, ...] = ()
    cooldown_s: float = DEFAULT_COOLDOWN_S
    attempts: int = 3
    backoff_s: float = 0.5
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | Sequence[str] | None) -> AlertPolicy:
        """From ``{"rules": [...], "channels": [...], "cooldown": "1h", "attempts": 3}`` or a
        bare list of rules. Raises InvalidArgument naming the bad part."""
        if data is None:
            return cls()
        if isinstance(data, Sequence) and not isinstance(data, str):
            data = {"rules": list(data)}
        if not isinstance(data, Mapping):
            raise InvalidArgument(f"alerts must be a mapping (rules:, channels:), not {data!r}")
        unknown = sorted(set(data) - {"rules", "channels", "cooldown", "attempts", "backoff_s"})
        if unknown:
            raise InvalidArgument(
                f"unknown alerts field(s) {unknown}; use rules, channels, cooldown, attempts, "
                "backoff_s"
            )
        rules = tuple(parse_rule(r) for r in data.get("rules") or ())
        channels = tuple(channel_from_dict(c) for c in data.get("channels") or ())
        attempts = data.get("attempts", 3)
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise InvalidArgument(f"alerts attempts must be a whole number >= 1, got {attempts!r}")
        backoff_s = data.get("backoff_s", 0.5)
        if (
            isinstance(backoff_s, bool)
            or not isinstance(backoff_s, int | float)
            or not 0 <= backoff_s < math.inf
        ):
            raise InvalidArgument(
                f"alerts backoff_s must be a number of seconds >= 0, got {backoff_s!r}; "
                "use e.g. backoff_s: 0.5"
            )
        return cls(
            rules=rules,
            channels=channels,
            cooldown_s=parse_duration(data.get("cooldown", DEFAULT_COOLDOWN_S), "cooldown"),
            attempts=attempts,
            backoff_s=float(backoff_s),
        )

    def with_channels(self) -> tuple[AlertChannel, ...]:
        if self.channels:
            return self.channels
        from shipyard.monitoring.channels.log import LogChannel

        return (LogChannel(),)


def parse_duration(value: Any, what: str) -> float:
    """Seconds from a number of seconds or a text like ``90s``, ``15m``, ``6h``, ``7d``.

    >>> parse_duration("15m", "cooldown")
    900.0
    """
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return _util.parse_duration(value, what).total_seconds()


def evaluate(
    store: MonitoringStore,
    policy: AlertPolicy,
    check: Check,
    *,
    context: Mapping[str, Any] | None = None,
) -> list[Alert]:
    """Alerts for the rules that hold on ``check``'s metrics, delivered and recorded."""
    fired = [rule for rule in policy.rules if rule.holds(check.metrics)]
    alerts = []
    for rule in fired:
        value = check.metrics.get(rule.metric)
        message = (
            f"{rule.metric} = {_fmt(value)} (rule {rule.text}) on {check.model}"
            f"{'' if check.version is None else f'/{check.version}'} over {check.rows:,} "
            "prediction(s)"
        )
        payload = {
            "monitor": check.monitor,
            "model": check.model,
            "version": check.version,
            "rule": rule.text,
            "metric": rule.metric,
            "value": value,
            "threshold": rule.threshold,
            "message": message,
            "check_id": check.id,
            "report": check.report,
            "at": now_ms(),
            **(context or {}),
        }
        if _cooling_down(store, check.monitor, rule, policy.cooldown_s):
            state, deliveries = "suppressed", []
        else:
            deliveries = deliver(policy.with_channels(), payload, policy.attempts, policy.backoff_s)
            state = "sent" if any(d.ok for d in deliveries) else "failed"
        alerts.append(
            store.record_alert(
                monitor=check.monitor,
                check_id=check.id,
                rule=rule.text,
                metric=rule.metric,
                value=None if value is None else float(value),
                threshold=rule.threshold,
                state=state,
                message=message,
                deliveries=deliveries,
            )
        )
    return alerts


def _cooling_down(store: MonitoringStore, monitor: str, rule: Rule, cooldown_s: float) -> bool:
    """Whether ``rule`` was sent within the cool-down (however many were suppressed since)."""
    if cooldown_s <= 0:
        return False
    since = now_ms() - int(cooldown_s * 1000)
    sent = store.list_alerts(monitor=monitor, rule=rule.text, state="sent", since=since, limit=1)
    return bool(sent)


def deliver(
    channels: Sequence[AlertChannel],
    alert: Mapping[str, Any],
    attempts: int = 3,
    backoff_s: float = 0.5,
) -> list[Delivery]:
    """Send ``alert`` to every channel at once (threads), each retried with backoff."""
    if not channels:
        return []
    with ThreadPoolExecutor(max_workers=len(channels)) as pool:
        futures = [pool.submit(_send, c, alert, attempts, backoff_s) for c in channels]
        return [f.result() for f in futures]


def _send(
    channel: AlertChannel, alert: Mapping[str, Any], attempts: int, backoff_s: float
) -> Delivery:
    tries = attempts if channel.retry else 1
    error = ""
    for attempt in range(1, tries + 1):
        try:
            channel.send(alert)
            return Delivery(channel.name, True, attempt)
        except Exception as exc:  # any failure of a channel is recorded, never raised
            error = f"{type(exc).__name__}: {exc}"
            log.warning(
                "alert channel %s failed (try %d/%d): %s", channel.name, attempt, tries, error
            )
            if attempt < tries:
                time.sleep(backoff_s * 2 ** (attempt - 1))
    return Delivery(channel.name, False, tries, error)


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.4g}"
