"""Load the example apps from examples/ and give each test a fake Sealtrail server."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sealtrail.client import Client
from tests.client.fake_server import FakeServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` as module ``name`` (once per process)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def sent_events(server: FakeServer) -> list[dict[str, Any]]:
    return [event for batch in server.requests for event in batch]


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def audit(server: FakeServer) -> Iterator[Client]:
    """A sync Client on the fake server, closed after the test."""
    client = Client("http://sealtrail.test", "st_test_key", transport=server.transport())
    yield client
    client.close(timeout=5)
