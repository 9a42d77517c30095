"""examples/fastapi_app.py through Starlette's TestClient: the ASGI middleware fills the context."""

from __future__ import annotations

import uuid
import warnings

import pytest

from sealtrail.client import AsyncClient
from tests.client.fake_server import FakeServer

from .conftest import load_example, sent_events
from .scenarios import SCENARIOS, TRUSTED, USER_AGENT, Scenario, request_headers

with warnings.catch_warnings():  # this Starlette asks for "httpx2"; plain httpx still works
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient


def _post(server: FakeServer, peer: str, *header_sets: dict[str, str]) -> list[str]:
    """POST once per header set from ``peer``; return the event ids the app answered with."""
    app = load_example("fastapi_app").create_app(
        AsyncClient("http://sealtrail.test", "st_key", transport=server.transport()),
        trusted_proxies=TRUSTED,
    )
    ids = []
    with TestClient(app, client=(peer, 50000)) as http:  # lifespan: the AsyncClient flushes on exit
        for headers in header_sets:
            response = http.post("/documents/d_1/share", headers=headers)
            assert response.status_code == 200, response.text
            ids.append(response.json()["event_id"])
    return ids


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_ip_user_agent_and_request_id_arrive(server: FakeServer, scenario: Scenario) -> None:
    (event_id,) = _post(server, scenario.peer, request_headers(scenario))
    (event,) = sent_events(server)
    assert event["id"] == event_id
    assert event["ip"] == scenario.expected_ip
    assert event["user_agent"] == USER_AGENT
    assert event["request_id"] == "req-42"
    assert event["actor"] == {"type": "user", "id": "u_1"}
    assert event["resource"] == {"type": "document", "id": "d_1"}


def test_a_request_id_is_generated_per_request_when_absent(server: FakeServer) -> None:
    scenario = Scenario("198.51.100.9")
    _post(server, scenario.peer, request_headers(scenario, None), request_headers(scenario, None))
    first, second = (event["request_id"] for event in sent_events(server))
    assert first != second
    assert uuid.UUID(first).version == 7
