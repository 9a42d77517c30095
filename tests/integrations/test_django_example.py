"""examples/django_app.py through Django's test clients: the middleware fills the context."""

from __future__ import annotations

import asyncio
import uuid
from types import ModuleType
from typing import Any

import httpx
import pytest

from sealtrail.client import Client
from tests.client.fake_server import FakeServer

from .conftest import load_example, sent_events
from .scenarios import SCENARIOS, USER_AGENT, Scenario, request_headers


@pytest.fixture
def django_app(audit: Client, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = load_example("django_app")
    monkeypatch.setattr(module, "audit", audit)
    return module


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_ip_user_agent_and_request_id_arrive(
    django_app: ModuleType, server: FakeServer, audit: Client, scenario: Scenario
) -> None:
    from django.test import Client as DjangoClient

    http = DjangoClient(REMOTE_ADDR=scenario.peer)
    response = http.post("/documents/d_1/share", headers=request_headers(scenario))
    assert response.status_code == 200, response.content
    assert audit.flush(timeout=10)
    (event,) = sent_events(server)
    assert event["id"] == response.json()["event_id"]
    assert event["ip"] == scenario.expected_ip
    assert event["user_agent"] == USER_AGENT
    assert event["request_id"] == "req-42"
    assert event["actor"] == {"type": "user", "id": "u_1"}


def test_a_request_id_is_generated_per_request_when_absent(
    django_app: ModuleType, server: FakeServer, audit: Client
) -> None:
    from django.test import Client as DjangoClient

    http = DjangoClient(REMOTE_ADDR="198.51.100.9")
    for _ in range(2):
        http.post("/documents/d_1/share", headers=request_headers(Scenario("198.51.100.9"), None))
    assert audit.flush(timeout=10)
    first, second = (event["request_id"] for event in sent_events(server))
    assert first != second
    assert uuid.UUID(first).version == 7


def test_under_asgi_the_async_middleware_path_fills_the_context(
    django_app: ModuleType, server: FakeServer, audit: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.asgi import get_asgi_application

    from sealtrail.integrations.django import SealtrailMiddleware

    async_calls = []
    acall = SealtrailMiddleware._acall

    async def spy(self: SealtrailMiddleware, request: Any) -> Any:
        async_calls.append(request.path)
        return await acall(self, request)

    monkeypatch.setattr(SealtrailMiddleware, "_acall", spy)
    scenario = Scenario("10.0.0.5", {"X-Forwarded-For": "203.0.113.7"})

    transport = httpx.ASGITransport(get_asgi_application(), client=(scenario.peer, 50000))

    async def post() -> int:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.post("/documents/d_1/share", headers=request_headers(scenario))
            return response.status_code

    assert asyncio.run(post()) == 200
    assert async_calls == ["/documents/d_1/share"]
    assert audit.flush(timeout=10)
    (event,) = sent_events(server)
    assert (event["ip"], event["request_id"]) == ("203.0.113.7", "req-42")
