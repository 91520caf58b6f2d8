"""Alert rules, channels against a real local HTTP receiver and a real local SMTP server,
retries, de-duplication and cool-down, recorded in a real store."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest

from shipyard.client import Services, connect_local
from shipyard.errors import InvalidArgument
from shipyard.monitoring.alerts import AlertPolicy, evaluate
from shipyard.monitoring.entities import Check
from shipyard.monitoring.monitors import Monitor
from shipyard.monitoring.rules import parse_rule
from tests.monitoring.conftest import http_receiver
from tests.server.conftest import store_settings


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    svc = connect_local(store_settings(tmp_path / "store"))
    yield svc
    svc.close()


def _check(services: Services, **metrics: float | None) -> Check:
    return services.monitoring.record_check(
        monitor="churn-live",
        model="churn",
        version=1,
        status="alert",
        window=(None, None),
        rows=100,
        labelled=100,
        metrics=metrics,
        details={},
        report="/tmp/report.html",
        started_at=int(time.time() * 1000),
    )


def test_rules_parse_and_hold() -> None:
    rule = parse_rule("  p99_latency_ms   >  50 ")
    assert (rule.metric, rule.op, rule.threshold, rule.text) == (
        "p99_latency_ms", ">", 50.0, "p99_latency_ms > 50",
    )  # fmt: skip
    assert rule.holds({"p99_latency_ms": 51.0}) and not rule.holds({"p99_latency_ms": 50.0})
    assert not rule.holds({})
    assert parse_rule("drift_score.monthly >= 0.2").holds({"drift_score.monthly": 0.2})
    with pytest.raises(InvalidArgument, match="unknown metric 'roc'"):
        parse_rule("roc < 0.7")
    with pytest.raises(InvalidArgument, match="METRIC OP NUMBER"):
        parse_rule("roc_auc is low")
    with pytest.raises(InvalidArgument, match=r"monitor 'm': .*unknown metric 'acuracy'"):
        Monitor.from_dict("m", {"model": "churn", "alerts": {"rules": ["acuracy < 0.9"]}})
    with pytest.raises(InvalidArgument, match="alert channel type 'pager'"):
        AlertPolicy.from_dict({"channels": [{"type": "pager"}]})
    with pytest.raises(InvalidArgument, match=r"needs field\(s\) \['url'\]"):
        AlertPolicy.from_dict({"channels": [{"type": "webhook"}]})
    with pytest.raises(InvalidArgument, match="not a duration"):
        AlertPolicy.from_dict({"cooldown": "soon"})


def test_webhook_and_slack_deliver_then_cooldown_suppresses(services: Services) -> None:
    with http_receiver() as hook, http_receiver() as slack:
        policy = AlertPolicy.from_dict(
            {
                "rules": ["roc_auc < 0.75", "drift_share > 0.3"],
                "channels": [
                    {"type": "webhook", "url": hook.url, "headers": {"X-Token": "t"}},
                    {"type": "slack", "url": slack.url},
                ],
                "cooldown": "1h",
            }
        )
        check = _check(services, roc_auc=0.7, drift_share=0.1)
        first = evaluate(services.monitoring, policy, check)
        assert [(a.rule, a.state) for a in first] == [("roc_auc < 0.75", "sent")]
        assert [d.ok for d in first[0].deliveries] == [True, True]
        body = hook.bodies[0]
        assert body["rule"] == "roc_auc < 0.75" and body["value"] == 0.7
        assert body["monitor"] == "churn-live" and body["check_id"] == first[0].check_id
        assert "roc_auc = 0.7" in slack.bodies[0]["text"]

        again = evaluate(services.monitoring, policy, _check(services, roc_auc=0.6))
        assert [(a.rule, a.state, a.deliveries) for a in again] == [
            ("roc_auc < 0.75", "suppressed", ())
        ]
        assert hook.hits == 1 and slack.hits == 1  # de-duplicated: nothing sent

        no_cooldown = AlertPolicy(rules=policy.rules, channels=policy.channels, cooldown_s=0)
        third = evaluate(services.monitoring, no_cooldown, _check(services, roc_auc=0.6))
        assert third[0].state == "sent" and hook.hits == 2
    states = [a.state for a in services.monitoring.list_alerts(monitor="churn-live")]
    assert states == ["sent", "suppressed", "sent"]


def test_failing_webhooks_are_retried_then_recorded_never_raised(services: Services) -> None:
    with http_receiver() as broken, http_receiver() as slow:
        broken.fail = True
        slow.delay_s = 2.0
        policy = AlertPolicy.from_dict(
            {
                "rules": ["error_rate > 0.1"],
                "channels": [
                    {"type": "webhook", "url": broken.url, "name": "ops"},
                    {"type": "webhook", "url": slow.url, "name": "slow", "timeout_s": 0.2},
                ],
                "attempts": 3,
                "backoff_s": 0.05,
            }
        )
        started = time.monotonic()
        (alert,) = evaluate(services.monitoring, policy, _check(services, error_rate=0.5))
        elapsed = time.monotonic() - started
    assert alert.state == "failed"
    ops, slow_d = alert.deliveries
    assert (ops.channel, ops.ok, ops.attempts) == ("ops", False, 3) and "500" in ops.error
    assert (slow_d.channel, slow_d.ok, slow_d.attempts) == ("slow", False, 3)
    assert "Timeout" in slow_d.error
    assert broken.hits == 3 and slow.hits == 3
    assert elapsed < 5.0  # bounded by timeouts and backoff, not by the stalled receiver
    stored = services.monitoring.list_alerts()[0]
    assert stored.deliveries == alert.deliveries and stored.state == "failed"


def test_unreachable_webhook_and_log_channel(services: Services) -> None:
    policy = AlertPolicy.from_dict(
        {
            "rules": ["drift_share > 0.3"],
            "channels": [{"type": "webhook", "url": "http://127.0.0.1:9/none"}, "log"],
            "backoff_s": 0.01,
        }
    )
    (alert,) = evaluate(services.monitoring, policy, _check(services, drift_share=0.5))
    hook, log = alert.deliveries
    assert not hook.ok and "ConnectError" in hook.error
    assert log.ok and alert.state == "sent"  # one channel took it


@pytest.fixture
def smtp() -> Iterator[tuple[int, list[Any]]]:
    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 OK"

    with socket.socket() as probe:  # a free port (the controller checks it by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


def test_email_over_a_real_smtp_server(services: Services, smtp: tuple[int, list[Any]]) -> None:
    port, received = smtp
    policy = AlertPolicy.from_dict(
        {
            "rules": ["roc_auc < 0.75"],
            "channels": [
                {"type": "email", "host": "127.0.0.1", "port": port, "to": ["ml@example.com"],
                 "sender": "shipyard@example.com"}
            ],
        }
    )  # fmt: skip
    (alert,) = evaluate(services.monitoring, policy, _check(services, roc_auc=0.5))
    assert alert.state == "sent" and alert.deliveries[0].channel == "email"
    (envelope,) = received
    assert envelope.rcpt_tos == ["ml@example.com"]
    message = message_from_bytes(envelope.content)
    assert message["Subject"] == "[shipyard] churn-live: roc_auc < 0.75"
    assert "roc_auc = 0.5" in message.get_payload(decode=True).decode()


def test_cli_alerts_test_sends_through_the_channels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    import shipyard
    from shipyard.cli.main import app

    with http_receiver() as hook:
        (tmp_path / "shipyard.yaml").write_text(
            "monitors:\n"
            "  churn-live:\n"
            "    model: churn@champion\n"
            "    alerts:\n"
            "      rules: ['roc_auc < 0.7']\n"
            f"      channels: [{{type: slack, url: '{hook.url}'}}]\n"
        )
        monkeypatch.chdir(tmp_path)
        shipyard.configure()
        out = CliRunner().invoke(app, ["alerts", "test", "churn-live"])
    assert out.exit_code == 0, out.output
    assert "slack: ok after 1 attempt(s)" in out.output
    assert hook.bodies == [
        {"text": ":rotating_light: *churn-live*: test alert of monitor churn-live"}
    ]
    assert shipyard.list_alerts() == []  # a test message is not recorded
