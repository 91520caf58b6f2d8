"""Alert channels: one small protocol, one module per kind, chosen by ``type:``.

In ``shipyard.yaml`` a monitor's ``alerts.channels`` lists them::

    channels:
      - {type: webhook, url: http://hooks.internal/alerts}        # JSON body, the alert's fields
      - {type: slack, url: https://hooks.slack.com/services/…}     # {"text": …}
      - {type: email, host: smtp.internal, port: 25, to: [ml@corp.example]}
      - {type: log}                                                # a WARNING in the log

A channel's ``send`` raises on failure; :func:`shipyard.monitoring.alerts.deliver` retries
with backoff and records the outcome, so a channel that is down never stops a monitor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from shipyard.errors import InvalidArgument


class AlertChannel(Protocol):
    """Where alerts go. ``name`` identifies it in alert history; ``send`` raises on failure
    (it is retried); ``retry`` is False for a channel where retrying cannot help."""

    @property
    def name(self) -> str: ...

    @property
    def retry(self) -> bool: ...

    def send(self, alert: Mapping[str, Any]) -> None: ...


def _kinds() -> dict[str, Callable[[Mapping[str, Any]], AlertChannel]]:
    from shipyard.monitoring.channels.email import EmailChannel
    from shipyard.monitoring.channels.log import LogChannel
    from shipyard.monitoring.channels.webhook import SlackChannel, WebhookChannel

    return {
        "webhook": WebhookChannel.from_dict,
        "slack": SlackChannel.from_dict,
        "email": EmailChannel.from_dict,
        "log": LogChannel.from_dict,
    }


def channel_from_dict(data: Mapping[str, Any] | str) -> AlertChannel:
    """The channel ``data`` describes (``{"type": "webhook", "url": …}``, or just ``"log"``).

    Raises InvalidArgument for an unknown type or a missing or unknown field.
    """
    if isinstance(data, str):
        data = {"type": data}
    if not isinstance(data, Mapping) or "type" not in data:
        raise InvalidArgument(
            f"an alert channel is a mapping with a type (webhook, slack, email, log), not {data!r}"
        )
    kinds = _kinds()
    kind = data["type"]
    if kind not in kinds:
        raise InvalidArgument(f"alert channel type {kind!r} is not one of {sorted(kinds)}")
    return kinds[kind](data)


def check_fields(
    data: Mapping[str, Any], kind: str, required: set[str], optional: set[str]
) -> None:
    """Raise InvalidArgument naming a missing or unknown field of a ``kind`` channel."""
    missing = sorted(required - set(data))
    unknown = sorted(set(data) - required - optional - {"type", "name"})
    if missing:
        raise InvalidArgument(f"a {kind} alert channel needs field(s) {missing}")
    if unknown:
        raise InvalidArgument(
            f"unknown field(s) {unknown} for a {kind} alert channel; it takes "
            f"{sorted(required | optional | {'name'})}"
        )


__all__ = ["AlertChannel", "channel_from_dict", "check_fields"]
