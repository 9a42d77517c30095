"""The two endless streams, which the fuzz run leaves out, answer and let the client go.

``GET /v1/events/stream`` (in the OpenAPI document) and the viewer's ``/ui/live`` (a page's
feed, not an API operation) answer with Server-Sent Events that end only when the client
closes: a fuzzer waiting for a whole response would hang on them, so
tests/fuzz/fuzzing.py leaves the live tail out of the generic run (``ENDLESS``) and
these tests check, on a live server on each engine, that each answers with its
documented status and content type, sends a first message, closes when the client
does (the server stays up for others), and refuses in the one error shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from sealtrail.auth import SCOPES, Principal
from sealtrail.events import Actor, EventInput

from ..store.conftest import ENGINES
from .live import FuzzTarget
from .threaded import sealtrail_app, served


@pytest.fixture(params=ENGINES)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FuzzTarget]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'streams.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    with sealtrail_app(url, tmp_path) as (log, app):
        key = log.create_api_key("acme", SCOPES).plain
        log.append(Principal.operator("acme"), [EventInput("member.invited", Actor("user", "u1"))])
        with served(app) as base:
            yield FuzzTarget(base, key)


@contextmanager
def _opened(
    target: FuzzTarget, path: str, client: httpx.Client | None = None, **kwargs: Any
) -> Iterator[tuple[httpx.Response, str]]:
    """The stream's response and its first message, read as a client would; closed after."""
    own = client is None
    http = client or httpx.Client(timeout=30)
    try:
        with http.stream("GET", f"{target.url}{path}", **kwargs) as response:
            first = ""
            if response.status_code == 200:
                for line in response.iter_lines():
                    if not line and first:
                        break
                    if line:
                        first += line + "\n"
            else:
                response.read()
            yield response, first
        # leaving the block closed the stream: the server must let it go
    finally:
        if own:
            http.close()


def test_the_live_tail_answers_streams_and_closes(target: FuzzTarget) -> None:
    with _opened(
        target, "/v1/events/stream", params={"after_seq": "-1"}, headers=target.headers
    ) as (response, first):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert "event: event" in first and "id: " in first, first
    with _opened(target, "/v1/events/stream") as (refused, _):
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthenticated"
    with _opened(
        target, "/v1/events/stream", params={"after_seq": "-2"}, headers=target.headers
    ) as (invalid, _):
        assert invalid.status_code == 422
        assert set(invalid.json()) == {"error"}
    assert httpx.get(f"{target.url}/readyz", timeout=30).status_code == 200


def test_the_viewers_live_feed_answers_streams_and_closes(target: FuzzTarget) -> None:
    minted = httpx.post(
        f"{target.url}/v1/viewer-sessions",
        json={"user": {"id": "u_1", "email": "ann@example.com", "name": "Ann"}, "role": "owner"},
        headers=target.headers,
        timeout=30,
    )
    assert minted.status_code == 201, minted.text
    with httpx.Client(timeout=30) as browser:
        link = httpx.URL(minted.json()["url"]).raw_path.decode()
        opened = browser.get(f"{target.url}{link}", follow_redirects=True)
        assert opened.status_code == 200, opened.text
        with _opened(target, "/ui/live", browser, params={"after_seq": "-1"}) as (live, first):
            assert live.status_code == 200
            assert live.headers["content-type"].startswith("text/event-stream")
            assert "event: rows" in first and "id: " in first, first
    assert httpx.get(f"{target.url}/readyz", timeout=30).status_code == 200
