"""examples/flask_app.py through Flask's test client: the extension fills the context."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask

from sealtrail.client import Client
from sealtrail.integrations.flask import Sealtrail
from sealtrail.recording import current_context
from tests.client.fake_server import FakeServer

from .conftest import load_example, sent_events
from .scenarios import SCENARIOS, TRUSTED, USER_AGENT, Scenario, request_headers


def _app(audit: Client) -> Flask:
    app: Flask = load_example("flask_app").create_app(audit, trusted_proxies=TRUSTED)
    return app


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_ip_user_agent_and_request_id_arrive(
    server: FakeServer, audit: Client, scenario: Scenario
) -> None:
    response = (
        _app(audit)
        .test_client()
        .post(
            "/documents/d_1/share",
            headers=request_headers(scenario),
            environ_base={"REMOTE_ADDR": scenario.peer},
        )
    )
    assert response.status_code == 200, response.text
    assert audit.flush(timeout=10)
    (event,) = sent_events(server)
    assert event["id"] == response.get_json()["event_id"]
    assert event["ip"] == scenario.expected_ip
    assert event["user_agent"] == USER_AGENT
    assert event["request_id"] == "req-42"
    assert event["actor"] == {"type": "user", "id": "u_1"}


def test_a_request_id_is_generated_per_request_when_absent(
    server: FakeServer, audit: Client
) -> None:
    http = _app(audit).test_client()
    for _ in range(2):
        http.post("/documents/d_1/share", headers=request_headers(Scenario("198.51.100.9"), None))
    assert audit.flush(timeout=10)
    first, second = (event["request_id"] for event in sent_events(server))
    assert first != second
    assert uuid.UUID(first).version == 7


def test_settings_come_from_app_config() -> None:
    app = Flask(__name__)
    app.config["SEALTRAIL_TRUSTED_PROXIES"] = ["192.0.2.1"]
    app.config["SEALTRAIL_REQUEST_ID_HEADER"] = "X-Correlation-ID"
    Sealtrail(app)
    seen: dict[str, str | None] = {}

    @app.get("/")
    def index() -> str:
        scope = current_context()
        seen.update(ip=scope.ip, request_id=scope.request_id)
        return "ok"

    app.test_client().get(
        "/",
        headers={"X-Forwarded-For": "203.0.113.9", "X-Correlation-ID": "corr-1"},
        environ_base={"REMOTE_ADDR": "192.0.2.1"},
    )
    assert seen == {"ip": "203.0.113.9", "request_id": "corr-1"}
    assert current_context().ip is None  # the request's context ended with it
