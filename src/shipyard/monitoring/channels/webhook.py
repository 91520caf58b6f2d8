"""Webhook channels: the alert as JSON (``type: webhook``) or as a Slack-compatible message
(``type: slack``: ``{"text": …}``, which Slack, Mattermost and Rocket.Chat accept)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from shipyard.errors import InvalidArgument
from shipyard.monitoring.channels import check_fields

DEFAULT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class WebhookChannel:
    """POSTs the alert's fields as JSON to ``url``; a non-2xx answer or a timeout fails."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S
    name: str = "webhook"
    retry: bool = True
    kind = "webhook"

    def body(self, alert: Mapping[str, Any]) -> Any:
        return dict(alert)

    def send(self, alert: Mapping[str, Any]) -> None:
        response = httpx.post(
            self.url, json=self.body(alert), headers=dict(self.headers), timeout=self.timeout_s
        )
        if response.status_code >= 300:
            raise RuntimeError(f"{self.url} answered {response.status_code}: {response.text[:200]}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WebhookChannel:
        check_fields(data, cls.kind, {"url"}, {"headers", "timeout_s"})
        url = str(data["url"])
        if not url.startswith(("http://", "https://")):
            raise InvalidArgument(f"a {cls.kind} channel's url must be http(s)://…, not {url!r}")
        timeout = float(data.get("timeout_s", DEFAULT_TIMEOUT_S))
        if not timeout > 0:
            raise InvalidArgument(f"timeout_s must be > 0, got {timeout}")
        return cls(
            url=url,
            headers={str(k): str(v) for k, v in (data.get("headers") or {}).items()},
            timeout_s=timeout,
            name=str(data.get("name", cls.kind)),
        )


@dataclass(frozen=True)
class SlackChannel(WebhookChannel):
    """POSTs ``{"text": …}`` (Slack's incoming-webhook format) to ``url``."""

    name: str = "slack"
    kind = "slack"

    def body(self, alert: Mapping[str, Any]) -> Any:
        lines = [f":rotating_light: *{alert['monitor']}*: {alert['message']}"]
        if alert.get("report"):
            lines.append(f"report: {alert['report']}")
        return {"text": "\n".join(lines)}
