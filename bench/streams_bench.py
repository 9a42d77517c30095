"""Streams: delivery throughput, end-to-end latency, and what delivery costs ingest.

A real ``sealtrail serve`` (SQLite) delivers webhook streams to an HTTPS receiver in this
process (a self-signed certificate the server trusts through ``stream_ca_file``), with
detections off (bench/detections.py measures what they cost). It runs as deployed by
default: the followers in the ``sealtrail follow`` child of ``serve``
(``followers = "process"``), whose CPU is measured beside the server's.

* **throughput**: 10,000 events are in the log; a stream is created and replayed from
  seq 0; events/s until the receiver holds them all.
* **latency**: one writer posts events at 100 and at 1,000 events/s (a batch every
  100 ms) for ``seconds``; each event carries the time it was posted, and the receiver
  takes ``arrival - posted`` for each: p50 and p95 (ingest → receiver, the HTTP request,
  the follower's wake-up, the batch, the signature and the webhook POST all included).
* **ingest slowdown**: four HTTP clients post 100-event batches with no stream, then
  with 3 active streams, alternately (``rounds`` rounds of 4,000 events each) in the same
  server; the ratio of the median rates is the cost of delivering. Target: at most 10 %
  slower. Beside it, the CPU seconds per 1,000 events of the server process, of its
  follower child and their sum in each setting (with streams: until all three have
  delivered the round), which the load of a shared machine moves far less than a rate.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import orjson
from tests.streams.tls import make_cert

from bench.report import Figure, Run
from bench.server import LiveServer, serve
from sealtrail.store import open_store
from sealtrail.stream_admin import consumer_name

SECTION = "streams"


class _Arrivals:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: set[str] = set()
        self.latencies: list[float] = []

    def take(self, body: bytes) -> None:
        now = time.time()
        document = orjson.loads(body)
        with self.lock:
            for event in document.get("events", []):
                if event["id"] in self.ids:
                    continue
                self.ids.add(event["id"])
                sent = (event.get("context") or {}).get("sent_at")
                if sent is not None:
                    self.latencies.append(now - sent)

    def count(self) -> int:
        with self.lock:
            return len(self.ids)


@contextmanager
def _receiver(directory: Path) -> Iterator[tuple[str, Path, _Arrivals]]:
    cert = make_cert(directory)
    arrivals = _Arrivals()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            arrivals.take(body)
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = cert.server_context().wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"https://localhost:{server.server_address[1]}/hook", cert.cert, arrivals
    finally:
        server.shutdown()
        server.server_close()


def _create(http: httpx.Client, url: str, name: str) -> str:
    body = {"name": name, "destination": {"type": "webhook", "url": url}, "format": "json"}
    answer = http.post("/v1/streams", json=body)
    answer.raise_for_status()
    return str(answer.json()["id"])


def _events(prefix: str, count: int, sent_at: float | None = None) -> bytes:
    events = [
        {
            "id": f"{prefix}{i}",
            "action": "member.invited",
            "actor": {"type": "user", "id": f"u{i % 50}", "email": f"u{i % 50}@example.com"},
            "context": {"sent_at": sent_at} if sent_at is not None else {"i": i},
        }
        for i in range(count)
    ]
    return orjson.dumps({"events": events})


def _wait(check: object, timeout: float) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.01)


def _ingest_rate(live: LiveServer, prefix: str, events: int, clients: int = 4) -> float:
    per = events // clients // 100
    headers = {"Authorization": f"Bearer {live.api_key}", "content-type": "application/json"}

    def write(c: int) -> None:
        with httpx.Client(base_url=live.url, headers=headers, timeout=60) as http:
            for b in range(per):
                http.post(
                    "/v1/events", content=_events(f"{prefix}{c}_{b}_", 100)
                ).raise_for_status()

    threads = [threading.Thread(target=write, args=(c,)) for c in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return per * clients * 100 / (time.perf_counter() - started)


def _cpu(live: LiveServer) -> tuple[float, float]:
    """CPU seconds used so far by the server process and by its follower child."""
    return live.cpu_seconds(), live.follower_cpu_seconds()


def _per_thousand(
    after: tuple[float, float], before: tuple[float, float], events: int
) -> tuple[float, float]:
    return (
        (after[0] - before[0]) * 1000 / events,
        (after[1] - before[1]) * 1000 / events,
    )


def _show(cpu: tuple[float, float]) -> str:
    return f"{cpu[0]:.3f} + {cpu[1]:.3f}"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _caught_up(live: LiveServer, stream_ids: list[str]) -> bool:
    """Every stream's cursor at the log's size (read from the database, not through the
    server, whose CPU time is being measured)."""
    store = open_store(live.database_url)
    try:
        size = store.tree_head(live.tenant_id).size
        for stream_id in stream_ids:
            state = store.get_consumer(live.tenant_id, consumer_name(stream_id))
            if state is None or state.next_seq < size:
                return False
        return True
    finally:
        store.close()


def _wait_caught_up(live: LiveServer, stream_ids: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not _caught_up(live, stream_ids):
        if time.monotonic() > deadline:
            raise RuntimeError("the streams did not catch up")
        time.sleep(0.05)


def run(
    run: Run, work: Path, *, seconds: float = 8.0, backlog: int = 10_000, rounds: int = 4
) -> None:
    directory = work / "streams"
    directory.mkdir()
    with _receiver(directory) as (url, ca, arrivals):
        # Detections off: they follow the log too (their own bench measures them), and
        # their paced batches would fall into either setting's measurement at random.
        env = {
            "SEALTRAIL_STREAM_CA_FILE": str(ca),
            "SEALTRAIL_STREAM_ALLOW_PRIVATE_DESTINATIONS": "true",  # the local receiver
            "SEALTRAIL_DETECTIONS": "false",
        }
        print("  ingest with no stream and with 3, alternately", flush=True)
        with serve(
            directory, scopes="events:write,events:read,streams:manage", extra_env=env
        ) as live:
            headers = {"Authorization": f"Bearer {live.api_key}"}
            with httpx.Client(base_url=live.url, headers=headers, timeout=60) as http:
                # Ingest with no stream, then with three, alternately.
                without: list[float] = []
                with_three: list[float] = []
                # CPU per 1,000 events: (server, follower child) per round.
                cpu_without: list[tuple[float, float]] = []
                cpu_with: list[tuple[float, float]] = []
                for round_ in range(rounds):
                    cpu = _cpu(live)
                    without.append(_ingest_rate(live, f"a{round_}_", 4000))
                    cpu_without.append(_per_thousand(_cpu(live), cpu, 4000))
                    made = [_create(http, url, f"load-{round_}-{n}") for n in range(3)]
                    _wait_caught_up(live, made, 60)
                    cpu = _cpu(live)
                    with_three.append(_ingest_rate(live, f"b{round_}_", 4000))
                    _wait_caught_up(live, made, 300)
                    cpu_with.append(_per_thousand(_cpu(live), cpu, 4000))
                    for stream_id in made:
                        http.delete(f"/v1/streams/{stream_id}").raise_for_status()
                    print(
                        f"  round {round_ + 1}: {without[-1]:,.0f} vs {with_three[-1]:,.0f}"
                        f" events/s; CPU (server + follower) {_show(cpu_without[-1])} vs"
                        f" {_show(cpu_with[-1])} s per 1,000 events",
                        flush=True,
                    )
                base, loaded = statistics.median(without), statistics.median(with_three)
                ratio = loaded / base
                cpu_base = statistics.median(c[0] for c in cpu_without)
                cpu_loaded = statistics.median(c[0] for c in cpu_with)
                sum_base = statistics.median(sum(c) for c in cpu_without)
                sum_loaded = statistics.median(sum(c) for c in cpu_with)
                run.add(
                    [
                        Figure(SECTION, "HTTP ingest, no stream", base, "events/s"),
                        Figure(
                            SECTION,
                            "HTTP ingest, 3 active webhook streams",
                            loaded,
                            "events/s",
                            baseline=base,
                            baseline_name="no stream",
                            target="≥ 90 % (slowdown ≤ 10 %)",
                            passed=ratio >= 0.9,
                        ),
                        Figure(
                            SECTION,
                            "server CPU per 1,000 events, no stream",
                            cpu_base,
                            "s",
                            detail=", ".join(f"{x:.3f}" for x, _ in cpu_without),
                        ),
                        Figure(
                            SECTION,
                            "follower process CPU per 1,000 events, no stream",
                            statistics.median(c[1] for c in cpu_without),
                            "s",
                            detail=", ".join(f"{x:.3f}" for _, x in cpu_without),
                        ),
                        Figure(
                            SECTION,
                            "server + follower CPU per 1,000 events, no stream",
                            sum_base,
                            "s",
                            detail=", ".join(f"{sum(c):.3f}" for c in cpu_without),
                        ),
                        Figure(
                            SECTION,
                            "server CPU per 1,000 events, 3 webhook streams (until delivered)",
                            cpu_loaded,
                            "s",
                            baseline=cpu_base,
                            baseline_name="no stream",
                            detail=", ".join(f"{x:.3f}" for x, _ in cpu_with),
                        ),
                        Figure(
                            SECTION,
                            "follower process CPU per 1,000 events, 3 webhook streams",
                            statistics.median(c[1] for c in cpu_with),
                            "s",
                            detail=", ".join(f"{x:.3f}" for _, x in cpu_with),
                        ),
                        Figure(
                            SECTION,
                            "server + follower CPU per 1,000 events, 3 webhook streams",
                            sum_loaded,
                            "s",
                            baseline=sum_base,
                            baseline_name="no stream",
                            detail=", ".join(f"{sum(c):.3f}" for c in cpu_with),
                        ),
                    ]
                )
                print(f"  ingest: {without} vs {with_three} events/s", flush=True)
                # Throughput: a backlog replayed from seq 0.
                size = http.get("/v1/checkpoint").json()["tree_size"]
                missing = backlog - size
                if missing > 0:
                    for b in range(0, missing, 1000):
                        body = _events(f"t{b}_", min(1000, missing - b))
                        http.post(
                            "/v1/events", content=body, headers={"content-type": "application/json"}
                        ).raise_for_status()
                total = http.get("/v1/checkpoint").json()["tree_size"]
                with arrivals.lock:
                    arrivals.ids.clear()
                stream_id = _create(http, url, "backlog")
                started = time.perf_counter()
                http.post(
                    f"/v1/streams/{stream_id}/replay", json={"from_seq": 0}
                ).raise_for_status()
                _wait(lambda: arrivals.count() >= total, 600)
                elapsed = time.perf_counter() - started
                http.delete(f"/v1/streams/{stream_id}").raise_for_status()
                run.add(
                    [
                        Figure(
                            SECTION,
                            f"delivery of a {total:,}-event backlog",
                            (total - 1) / elapsed,
                            "events/s",
                            detail="one webhook stream, JSON, batches of 500",
                        )
                    ]
                )
                # Latency at 100 and 1,000 events/s per stream.
                for rate in (100, 1000):
                    stream_id = _create(http, url, f"latency-{rate}")
                    # A new stream starts delivering within the follower's re-read of the
                    # streams (2 s): wait for it, the steady state is what is measured.
                    http.post(
                        "/v1/events",
                        content=_events(f"warm{rate}_", 1),
                        headers={"content-type": "application/json"},
                    ).raise_for_status()
                    _wait(lambda r=rate: f"warm{r}_0" in arrivals.ids, 60)
                    with arrivals.lock:
                        arrivals.latencies.clear()
                    per_tick = rate // 10
                    sent = 0
                    started = time.perf_counter()
                    tick = 0
                    while time.perf_counter() - started < seconds:
                        body = _events(f"l{rate}_{tick}_", per_tick, time.time())
                        http.post(
                            "/v1/events", content=body, headers={"content-type": "application/json"}
                        ).raise_for_status()
                        sent += per_tick
                        tick += 1
                        pause = started + tick * 0.1 - time.perf_counter()
                        if pause > 0:
                            time.sleep(pause)
                    _wait(lambda s=sent: len(arrivals.latencies) >= s, 120)
                    achieved = sent / (time.perf_counter() - started)
                    with arrivals.lock:
                        latencies = list(arrivals.latencies)
                    http.delete(f"/v1/streams/{stream_id}").raise_for_status()
                    p50, p95 = _percentile(latencies, 0.5), _percentile(latencies, 0.95)
                    target = "< 2 s" if rate == 100 else ""
                    run.add(
                        [
                            Figure(
                                SECTION,
                                f"latency p50 at {rate} events/s",
                                p50 * 1000,
                                "ms",
                                detail=f"{sent} events, {achieved:.0f} events/s offered",
                            ),
                            Figure(
                                SECTION,
                                f"latency p95 at {rate} events/s",
                                p95 * 1000,
                                "ms",
                                target=target,
                                passed=(p95 < 2.0) if rate == 100 else None,
                            ),
                        ]
                    )
    run.note(
        SECTION,
        "ingest → receiver latency: from the writer's POST to the webhook's arrival, per event",
    )
    run.note(
        SECTION,
        f"ingest with no stream vs 3 webhook streams: {rounds} rounds of 4,000 events each"
        " (4 clients, batches of 100), taking turns in one server; medians. CPU: user +"
        " system seconds (/proc/PID/stat) of the `sealtrail serve` process and of its"
        " `sealtrail follow` child (the default deployment, where the streams are delivered),"
        " each and summed, per 1,000 events, from the first post until the last answer (no"
        " stream) or until all three streams had delivered the round (lag 0).",
    )
    run.note(SECTION, json.dumps({"ingest_no_stream": without, "ingest_3_streams": with_three}))
