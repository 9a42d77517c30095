"""Client factories on a fresh FakeServer per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sealtrail.client import AsyncClient, Client

from .fake_server import FakeServer, event

__all__ = ["AsyncClientFactory", "ClientFactory", "FakeServer", "event"]

ClientFactory = Callable[..., Client]
AsyncClientFactory = Callable[..., AsyncClient]

FAST: dict[str, Any] = {"flush_interval": 0.01, "backoff_base": 0.001, "backoff_max": 0.01}


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def make_client(server: FakeServer) -> Iterator[ClientFactory]:
    """``make_client(**options)``: a Client on ``server``, closed after the test."""
    clients: list[Client] = []

    def make(**options: Any) -> Client:
        settings = {**FAST, **options}
        client = Client(
            "http://sealtrail.test", "st_test_key", transport=server.transport(), **settings
        )
        clients.append(client)
        return client

    yield make
    if server.gate is not None:
        server.gate.set()
    for client in clients:
        client.close(timeout=5)


@pytest.fixture
def make_async_client(server: FakeServer) -> AsyncClientFactory:
    """``make_async_client(**options)``: an AsyncClient on ``server`` (close it in the test)."""

    def make(**options: Any) -> AsyncClient:
        settings = {**FAST, **options}
        return AsyncClient(
            "http://sealtrail.test", "st_test_key", transport=server.transport(), **settings
        )

    return make
