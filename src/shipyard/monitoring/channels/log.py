"""The log channel: each alert as one WARNING record of the ``shipyard.alerts`` logger."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shipyard.monitoring.channels import check_fields

log = logging.getLogger("shipyard.alerts")


@dataclass(frozen=True)
class LogChannel:
    """Writes alerts to the log (``type: log``); never fails."""

    name: str = "log"
    retry: bool = False

    def send(self, alert: Mapping[str, Any]) -> None:
        log.warning("ALERT %s: %s %s", alert["monitor"], alert["message"], json.dumps(alert))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LogChannel:
        check_fields(data, "log", set(), set())
        return cls(name=str(data.get("name", "log")))
