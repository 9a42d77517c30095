"""SDK benchmark: what ``record()`` costs the caller, and events/s end to end.

    python -m bench.sdk_bench                                   # record() cost only
    python -m bench.sdk_bench --url http://127.0.0.1:8000 --api-key st_...   # plus end to end

``run(report)`` is the entry point for ``make bench``; ``report(name, results)``
receives each measurement as a flat dict of numbers. Importing this module
does nothing.

* ``sdk.record``: per-call wall time of ``Client.record()`` over ``calls`` calls
  (p50/p99/max in µs) inside a typical request context, with the worker thread
  draining concurrently into a transport that answers 201 at once — so it
  includes validation, the id, serialisation, the queue and GIL contention
  with the worker, but no network.
* ``sdk.end_to_end``: events/s from the first ``record()`` until ``flush()``
  returns, against a live server, next to ``raw_httpx``: the same events
  pre-serialised and POSTed back to back in batches of the same size on one
  ``httpx.Client``. ``ratio`` = SDK / raw, measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
import orjson

from sealtrail.client import Client, context
from sealtrail.recording import build_event

Report = Callable[[str, Mapping[str, float]], None]


def print_report(name: str, results: Mapping[str, float]) -> None:
    cells = ", ".join(
        f"{key}={value:,.1f}" if isinstance(value, float) else f"{key}={value:,}"
        for key, value in results.items()
    )
    print(f"{name}: {cells}")


class _Accept(httpx.BaseTransport):
    """Answers every request 201 without looking at it."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(201)


def _event(n: int) -> dict[str, Any]:
    return {
        "action": "document.updated",
        "resource": {"type": "document", "id": f"doc_{n % 1000}"},
        "context": {"field": "title", "previous": "Draft", "new": f"Draft {n}"},
    }


def _percentile(ordered: Sequence[int], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1000


def measure_record_cost(calls: int = 100_000, warmup: int = 2_000) -> dict[str, float]:
    """p50/p99/max µs of ``Client.record()`` with a no-op transport."""
    client = Client(
        "http://sealtrail.invalid",
        "st_bench",
        transport=_Accept(),
        max_queue=calls + warmup,
        flush_interval=0.05,
    )
    events = [_event(n) for n in range(calls)]
    timings = [0] * calls
    clock = time.perf_counter_ns
    try:
        with context(
            actor={"type": "user", "id": "u_1", "email": "ann@example.com"},
            ip="203.0.113.7",
            user_agent="Mozilla/5.0 (X11; Linux x86_64) bench",
            request_id="req-bench",
        ):
            for n in range(warmup):
                client.record(**events[n % calls])
            for n, fields in enumerate(events):
                started = clock()
                client.record(**fields)
                timings[n] = clock() - started
        client.flush(timeout=60)
    finally:
        client.close(timeout=10)
    ordered = sorted(timings)
    stats = client.stats
    return {
        "calls": calls,
        "p50_us": _percentile(ordered, 0.50),
        "p99_us": _percentile(ordered, 0.99),
        "max_us": ordered[-1] / 1000,
        "mean_us": statistics.fmean(ordered) / 1000,
        "sent": stats.sent,
        "dropped": stats.dropped,
    }


def measure_end_to_end(
    url: str, api_key: str, events: int = 20_000, batch_size: int = 100
) -> dict[str, float]:
    """Events/s through ``Client`` vs raw httpx batches of the same events, same server."""
    with context(actor="user:bench", ip="203.0.113.7", user_agent="sealtrail-bench"):
        bodies = [
            orjson.dumps(
                {
                    "events": [
                        build_event(**_event(n))[1]
                        for n in range(start, min(start + batch_size, events))
                    ]
                }
            )
            for start in range(0, events, batch_size)
        ]
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        started = time.perf_counter()
        for body in bodies:
            http.post("/v1/events", content=body).raise_for_status()
        raw_seconds = time.perf_counter() - started

    client = Client(url, api_key, batch_size=batch_size, max_queue=events, timeout=60)
    try:
        with context(actor="user:bench", ip="203.0.113.7", user_agent="sealtrail-bench"):
            started = time.perf_counter()
            for n in range(events):
                client.record(**_event(n))
            flushed = client.flush(timeout=600)
            sdk_seconds = time.perf_counter() - started
    finally:
        client.close(timeout=10)
    stats = client.stats
    if not flushed or stats.sent != events:
        raise RuntimeError(f"the SDK did not deliver every event: {stats}")
    sdk_rate, raw_rate = events / sdk_seconds, events / raw_seconds
    return {
        "events": events,
        "batch_size": batch_size,
        "sdk_events_per_s": sdk_rate,
        "raw_httpx_events_per_s": raw_rate,
        "ratio": sdk_rate / raw_rate,
        "retried": stats.retried,
    }


def run(
    report: Report = print_report,
    *,
    url: str | None = None,
    api_key: str | None = None,
    calls: int = 100_000,
    events: int = 20_000,
) -> None:
    """Measure ``record()`` cost; with a server ``url`` and ``api_key``, also end to end."""
    report("sdk.record", measure_record_cost(calls))
    if url and api_key:
        report("sdk.end_to_end", measure_end_to_end(url, api_key, events))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--url", help="a running sealtrail server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--api-key", help="a key with events:write for that server")
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args(argv)
    run(url=args.url, api_key=args.api_key, calls=args.calls, events=args.events)


if __name__ == "__main__":
    main()
