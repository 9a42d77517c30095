"""The same requests for every framework: who connects, what they claim, what must be recorded."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

TRUSTED = ("10.0.0.0/8",)  # what the example apps trust
USER_AGENT = "pytest-agent/1.0"


@dataclass(frozen=True)
class Scenario:
    peer: str
    headers: dict[str, str] = field(default_factory=dict)
    expected_ip: str = ""


SCENARIOS = [
    pytest.param(Scenario("198.51.100.9", {}, "198.51.100.9"), id="direct"),
    pytest.param(
        Scenario("198.51.100.9", {"X-Forwarded-For": "1.2.3.4"}, "198.51.100.9"),
        id="spoofed-header-from-an-untrusted-peer-is-ignored",
    ),
    pytest.param(
        Scenario("10.0.0.5", {"X-Forwarded-For": "203.0.113.7, 10.0.0.3"}, "203.0.113.7"),
        id="through-two-trusted-proxies",
    ),
    pytest.param(
        Scenario("10.0.0.5", {"X-Forwarded-For": "6.6.6.6, 203.0.113.7"}, "203.0.113.7"),
        id="client-spoofed-hop-left-of-the-real-client-is-ignored",
    ),
]


def request_headers(scenario: Scenario, request_id: str | None = "req-42") -> dict[str, str]:
    headers = {"X-User-Id": "u_1", "User-Agent": USER_AGENT, **scenario.headers}
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    return headers
