"""The email channel: each alert as a plain-text message over SMTP (``type: email``)."""

from __future__ import annotations

import json
import os
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from shipyard.errors import InvalidArgument
from shipyard.monitoring.channels import check_fields


@dataclass(frozen=True)
class EmailChannel:
    """Sends alerts from ``sender`` to ``to`` through the SMTP server at ``host:port``;
    ``starttls`` upgrades the connection, ``username`` with the password read from the
    environment variable ``password_env`` logs in."""

    host: str
    to: tuple[str, ...]
    port: int = 25
    sender: str = "shipyard@localhost"
    starttls: bool = False
    username: str | None = None
    password_env: str | None = None
    timeout_s: float = 10.0
    name: str = "email"
    retry: bool = True

    def send(self, alert: Mapping[str, Any]) -> None:
        msg = EmailMessage()
        msg["Subject"] = f"[shipyard] {alert['monitor']}: {alert['rule']}"
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg.set_content(f"{alert['message']}\n\n{json.dumps(alert, indent=2, default=str)}\n")
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, os.environ.get(self.password_env or "", ""))
            smtp.send_message(msg)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmailChannel:
        optional = {"port", "sender", "starttls", "username", "password_env", "timeout_s"}
        check_fields(data, "email", {"host", "to"}, optional)
        to = data["to"]
        to = (to,) if isinstance(to, str) else tuple(str(t) for t in to)
        if not to or not all("@" in t for t in to):
            raise InvalidArgument(f"an email channel's to must list addresses, not {data['to']!r}")
        return cls(
            host=str(data["host"]),
            to=to,
            port=int(data.get("port", 25)),
            sender=str(data.get("sender", "shipyard@localhost")),
            starttls=bool(data.get("starttls", False)),
            username=data.get("username"),
            password_env=data.get("password_env"),
            timeout_s=float(data.get("timeout_s", 10.0)),
            name=str(data.get("name", "email")),
        )
