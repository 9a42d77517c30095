"""The sans-I/O core: what each answer means, how long to wait, which events go again."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from random import Random

import httpx
import orjson
import pytest

from sealtrail.client._delivery import (
    MAX_RETRY_AFTER,
    Counters,
    Delivered,
    Delivery,
    Pause,
    Refused,
    Requests,
    RetryLater,
    RetryPolicy,
    TooLarge,
    interpret,
    parse_retry_after,
)
from sealtrail.client._queue import QueuedEvent

from .fake_server import HighestDraw


def _items(count: int) -> list[QueuedEvent]:
    return [
        QueuedEvent(f"e{i}", orjson.dumps({"id": f"e{i}", "pad": "x" * 50})) for i in range(count)
    ]


def _delivery(
    items: list[QueuedEvent], *, max_retries: int | None = 3, max_bytes: int = 1 << 20
) -> tuple[Delivery, Counters]:
    counters = Counters()
    delivery = Delivery(
        items,
        Requests("http://audit.test/base/", "st_key", "sealtrail-python/test"),
        RetryPolicy(max_retries, backoff_base=0.5, backoff_max=4.0),
        counters,
        HighestDraw(),
        max_bytes,
    )
    return delivery, counters


def _ids(request: httpx.Request) -> list[str]:
    return [event["id"] for event in orjson.loads(request.content)["events"]]


def _error(status: int, details: list[dict[str, object]] | None = None) -> httpx.Response:
    error: dict[str, object] = {"code": "invalid_event", "message": "bad"}
    if details is not None:
        error["details"] = details
    return httpx.Response(status, json={"error": error})


def test_request_shape() -> None:
    delivery, _ = _delivery(_items(2))
    request = delivery.next_request()
    assert request is not None
    assert request.method == "POST"
    assert str(request.url) == "http://audit.test/base/v1/events"
    assert request.headers["Authorization"] == "Bearer st_key"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "sealtrail-python/test"
    assert orjson.loads(request.content) == {
        "events": [{"id": "e0", "pad": "x" * 50}, {"id": "e1", "pad": "x" * 50}]
    }


@pytest.mark.parametrize(
    ("status", "verdict"),
    [(200, Delivered), (201, Delivered), (413, TooLarge), (408, RetryLater), (429, RetryLater)]
    + [(s, RetryLater) for s in (500, 502, 503, 504)]
    + [(s, Refused) for s in (301, 400, 401, 403, 404, 409, 422)],
)
def test_interpret_status(status: int, verdict: type) -> None:
    assert isinstance(interpret(httpx.Response(status)), verdict)


def test_interpret_reads_the_422_details_and_message() -> None:
    verdict = interpret(
        _error(422, [{"index": 1, "field": "ip", "message": "bad ip"}, {"index": "x"}])
    )
    assert verdict == Refused("HTTP 422: bad", {1: ["ip bad ip"]})


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("99999", MAX_RETRY_AFTER),
        ("Sun, 01 Mar 2026 12:00:30 GMT", 30.0),
        ("Sun, 01 Mar 2026 11:59:00 GMT", 0.0),
        ("soon", None),
        ("nan", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after(header, now=now) == seconds


def test_backoff_is_full_jitter_exponential_and_capped() -> None:
    policy = RetryPolicy(max_retries=None, backoff_base=0.5, backoff_max=4.0)
    assert [policy.backoff(n, HighestDraw()) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    rng = Random(1)
    draws = [policy.backoff(3, rng) for _ in range(500)]
    assert all(0.0 <= d <= 4.0 for d in draws)
    assert min(draws) < 1.0 < 3.0 < max(draws)  # spread over the whole range, not a fixed delay


def test_retry_after_wins_over_backoff_and_the_same_events_go_again() -> None:
    delivery, counters = _delivery(_items(3))
    first = delivery.next_request()
    assert first is not None
    assert delivery.on_response(httpx.Response(503, headers={"Retry-After": "7"})) == Pause(
        7.0, True
    )
    assert delivery.on_response(httpx.Response(500)) == Pause(1.0, False)  # 2nd retry: 0.5 * 2
    again = delivery.next_request()
    assert again is not None
    assert _ids(again) == _ids(first) == ["e0", "e1", "e2"]
    assert delivery.on_response(httpx.Response(201)) == Pause(0.0)
    assert delivery.next_request() is None
    assert counters == Counters(sent=3, failed=0, retried=2)


def test_rate_limiting_spends_no_retry_and_gives_up_nothing() -> None:
    """A 429 says the server is up and when to come back: the events wait, however
    often it comes, and max_retries stays for real failures."""
    delivery, counters = _delivery(_items(2), max_retries=1)
    assert delivery.next_request() is not None
    for _ in range(5):
        limited = httpx.Response(429, headers={"Retry-After": "3"})
        assert delivery.on_response(limited) == Pause(3.0, True)
    assert delivery.on_response(httpx.Response(429)) == Pause(0.5, False)  # no Retry-After
    assert delivery.next_request() is not None  # still there, not given up
    assert delivery.on_response(httpx.Response(201)) == Pause(0.0)
    assert counters == Counters(sent=2, failed=0, retried=6)


def test_network_errors_back_off_then_give_up_after_max_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    delivery, counters = _delivery(_items(2), max_retries=2)
    delays = []
    while delivery.next_request() is not None:
        delays.append(delivery.on_error(httpx.ConnectError("refused")).seconds)
    assert delays == [0.5, 1.0, 0.0]
    assert counters == Counters(sent=0, failed=2, retried=2)
    assert "gave up after 2 retries" in caplog.text


def test_client_errors_are_not_retried(caplog: pytest.LogCaptureFixture) -> None:
    delivery, counters = _delivery(_items(2))
    assert delivery.next_request() is not None
    assert delivery.on_response(_error(401)) == Pause(0.0)
    assert delivery.next_request() is None
    assert counters == Counters(sent=0, failed=2, retried=0)
    assert "HTTP 401" in caplog.text
    assert "e0, e1" in caplog.text


def test_422_gives_up_only_the_named_events_and_resends_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR)
    delivery, counters = _delivery(_items(4))
    assert delivery.next_request() is not None
    details: list[dict[str, object]] = [{"index": 2, "field": "action", "message": "unknown"}]
    delivery.on_response(_error(422, details))
    resend = delivery.next_request()
    assert resend is not None
    assert _ids(resend) == ["e0", "e1", "e3"]
    delivery.on_response(httpx.Response(201))
    assert counters == Counters(sent=3, failed=1, retried=0)
    assert "e2: action unknown" in caplog.text


def test_422_without_usable_details_gives_up_the_whole_request() -> None:
    delivery, counters = _delivery(_items(3))
    assert delivery.next_request() is not None
    delivery.on_response(_error(422, [{"index": 9, "field": "x", "message": "?"}]))
    assert delivery.next_request() is None
    assert counters.failed == 3


def test_413_halves_the_request_until_it_fits() -> None:
    delivery, counters = _delivery(_items(4))
    sizes = []
    while (request := delivery.next_request()) is not None:
        ids = _ids(request)
        sizes.append(len(ids))
        delivery.on_response(httpx.Response(413 if len(ids) > 1 else 201))
    assert sizes == [4, 2, 1, 1, 2, 1, 1]
    assert counters == Counters(sent=4, failed=0, retried=0)


def test_an_event_too_large_on_its_own_is_given_up() -> None:
    delivery, counters = _delivery(_items(1))
    assert delivery.next_request() is not None
    delivery.on_response(httpx.Response(413))
    assert delivery.next_request() is None
    assert counters.failed == 1


def test_requests_are_cut_to_max_bytes_in_order() -> None:
    items = _items(10)
    delivery, _ = _delivery(items, max_bytes=3 * (len(items[0].body) + 1))
    batches = []
    while (request := delivery.next_request()) is not None:
        batches.append(_ids(request))
        delivery.on_response(httpx.Response(201))
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    assert [i for b in batches for i in b] == [item.id for item in items]


def test_abandon_returns_what_is_unacknowledged() -> None:
    items = _items(4)
    delivery, _ = _delivery(items, max_bytes=2 * (len(items[0].body) + 1))
    assert delivery.next_request() is not None
    delivery.on_response(httpx.Response(201))
    assert [item.id for item in delivery.abandon()] == ["e2", "e3"]
    assert delivery.next_request() is None
