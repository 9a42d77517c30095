"""Detections: what the built-in rules cost ingest, and how soon an alert is visible.

Two figures (issue 18), each against a baseline from the same run:

* **HTTP ingest with the built-in rules on**, against the same server with them off
  (``SEALTRAIL_DETECTIONS=false``): the bench's generated events posted by several
  clients, the runs of the two settings taking turns. The rules run where a default
  deployment runs them: in the ``sealtrail follow`` child of ``sealtrail serve``
  (``followers = "process"``). How long the detections took to finish the log after the
  last event was acknowledged is noted beside it, and the CPU seconds of the server
  process and of its follower child, each and together, per 1,000 events.
* **Alert latency**: ten failed sign-ins from a new address posted in one batch; the
  time from the batch's acknowledgement until ``GET /v1/alerts`` shows the alert it
  opens. Rounds one after another on an otherwise idle server; p50, p95 and the worst.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from bench import ingest
from bench.report import Figure, Run, median, percentile
from bench.server import serve
from sealtrail.store import open_store

SECTION = "detections"


def _post_all(url: str, key: str, bodies: list[bytes], clients: int) -> float:
    """Post every body with ``clients`` threads; seconds from the first to the last answer."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    cursor = iter(range(len(bodies)))
    lock = threading.Lock()
    errors: list[BaseException] = []
    ready = threading.Barrier(clients + 1)

    def client() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=300) as http:
            ready.wait()
            try:
                while True:
                    with lock:
                        index = next(cursor, None)
                    if index is None:
                        return
                    response = http.post("/v1/events", content=bodies[index])
                    if response.status_code != 201:
                        raise RuntimeError(f"{response.status_code}: {response.text[:300]}")
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"HTTP ingest failed: {errors[0]}") from errors[0]
    return elapsed


def _caught_up(database_url: str, tenant_id: str) -> bool:
    store = open_store(database_url)
    try:
        size = store.tree_head(tenant_id).size
        done = store.detection_progress(tenant_id, f"detection:{tenant_id}")
        return done >= size
    finally:
        store.close()


def _ingest(
    payload: ingest.IngestData, directory: Path, *, on: bool, clients: int
) -> tuple[float, float | None, float, float]:
    """Events/s acknowledged, (rules on) seconds until the rules had read them all, and
    the CPU seconds per 1,000 events of the server and of its follower child from the
    first post until then (rules off: until the last answer)."""
    directory.mkdir(parents=True)
    bodies = payload.bodies(100)
    switch = {"SEALTRAIL_DETECTIONS": "true" if on else "false"}
    with serve(directory, ingest.TENANT, extra_env=switch) as live:
        cpu_before = live.cpu_seconds()
        follower_before = live.follower_cpu_seconds()
        elapsed = _post_all(live.url, live.api_key, bodies, clients)
        lag = None
        if on:
            done = time.perf_counter()
            while not _caught_up(live.database_url, live.tenant_id):
                time.sleep(0.05)
            lag = time.perf_counter() - done
        cpu = live.cpu_seconds() - cpu_before
        follower_cpu = live.follower_cpu_seconds() - follower_before
    per_k = 1000 / payload.count
    return payload.count / elapsed, lag, cpu * per_k, follower_cpu * per_k


def _latency(directory: Path, rounds: int) -> list[float]:
    directory.mkdir(parents=True)
    seconds = []
    with serve(directory, "latency", extra_env={"SEALTRAIL_DETECTIONS": "true"}) as live:
        headers = {"Authorization": f"Bearer {live.api_key}"}
        with httpx.Client(base_url=live.url, headers=headers, timeout=60) as http:
            for n in range(rounds):
                ip = f"198.18.{n // 250}.{n % 250 + 1}"
                batch = {
                    "events": [
                        {
                            "action": "auth.login",
                            "outcome": "failure",
                            "ip": ip,
                            "actor": {"type": "user", "id": f"u{n}_{i}"},
                        }
                        for i in range(10)
                    ]
                }
                response = http.post("/v1/events", json=batch)
                acknowledged = time.perf_counter()
                if response.status_code != 201:
                    raise RuntimeError(f"{response.status_code}: {response.text[:300]}")
                while True:
                    alerts = http.get("/v1/alerts", params={"limit": 5}).json()["alerts"]
                    if any(a["group"].get("ip") == ip for a in alerts):
                        break
                    if time.perf_counter() - acknowledged > 60:
                        raise RuntimeError(f"no alert for {ip} after 60 s")
                    time.sleep(0.005)
                seconds.append(time.perf_counter() - acknowledged)
    return seconds


def run(report: Run, work: Path, *, events: int, repeats: int, clients: int, rounds: int) -> None:
    print(f"detections: preparing {events:,} events", flush=True)
    payload = ingest.prepare(events)
    rates: dict[bool, list[float]] = {False: [], True: []}
    cpu: dict[bool, list[float]] = {False: [], True: []}
    follower_cpu: dict[bool, list[float]] = {False: [], True: []}
    both_cpu: dict[bool, list[float]] = {False: [], True: []}
    lags: list[float] = []
    for rep in range(repeats):
        for on in (False, True) if rep % 2 == 0 else (True, False):
            rate, lag, per_k, follower_k = _ingest(
                payload, work / f"detections-{rep}-{on}", on=on, clients=clients
            )
            rates[on].append(rate)
            cpu[on].append(per_k)
            follower_cpu[on].append(follower_k)
            both_cpu[on].append(per_k + follower_k)
            if lag is not None:
                lags.append(lag)
            state = "on" if on else "off"
            print(
                f"    rules {state} run {rep + 1}/{repeats}: {rate:,.0f} events/s,"
                f" CPU per 1,000 events: server {per_k:.3f} s, follower {follower_k:.3f} s,"
                f" sum {per_k + follower_k:.3f} s",
                flush=True,
            )
    latencies = _latency(work / "detections-latency", rounds)
    rate_off, rate_on = median(rates[False]), median(rates[True])
    cpu_off, cpu_on = median(cpu[False]), median(cpu[True])
    both_off, both_on = median(both_cpu[False]), median(both_cpu[True])
    p95 = percentile(latencies, 0.95)
    report.note(
        SECTION,
        f"{events:,} generated events per run over HTTP (batches of 100, {clients} clients) "
        f"into `sealtrail serve` (default deployment: the followers in its `sealtrail follow` "
        f"child) on a fresh SQLite file; the 9 built-in rules on vs off "
        f"(SEALTRAIL_DETECTIONS), {repeats} run(s) each, taking turns; medians. With the "
        f"rules on, the detections finished the log {median(lags):.1f} s (median; runs "
        f"{', '.join(f'{x:.1f}' for x in lags)} s) after the last event was acknowledged. "
        f"Alert latency: {rounds} rounds of 10 failed sign-ins from a new address, "
        "acknowledgement → the alert listed by GET /v1/alerts. CPU: user + system "
        "seconds (/proc/PID/stat) of the `sealtrail serve` process and of its `sealtrail "
        "follow` child, each and summed, from the first post until the last answer (rules "
        "off) or until the rules had read every event (rules on), per 1,000 events: figures "
        "the machine's load does not move much. Medians of each column; the sum's median is "
        "of the runs' sums.",
    )
    report.add(
        [
            Figure(
                SECTION,
                "HTTP ingest, built-in rules off (baseline)",
                rate_off,
                "events/s",
                detail=", ".join(f"{x:,.0f}" for x in rates[False]),
            ),
            Figure(
                SECTION,
                "HTTP ingest, all built-in rules on",
                rate_on,
                "events/s",
                baseline=rate_off,
                baseline_name="rules off",
                detail=", ".join(f"{x:,.0f}" for x in rates[True]),
                target="≥ 90 % of rules off",
                passed=rate_on / rate_off >= 0.90,
            ),
            Figure(
                SECTION,
                "server CPU per 1,000 events, rules off",
                cpu_off,
                "s",
                detail=", ".join(f"{x:.3f}" for x in cpu[False]),
            ),
            Figure(
                SECTION,
                "follower process CPU per 1,000 events, rules off",
                median(follower_cpu[False]),
                "s",
                detail=", ".join(f"{x:.3f}" for x in follower_cpu[False]),
            ),
            Figure(
                SECTION,
                "server + follower CPU per 1,000 events, rules off",
                both_off,
                "s",
                detail=", ".join(f"{x:.3f}" for x in both_cpu[False]),
            ),
            Figure(
                SECTION,
                "server CPU per 1,000 events, rules on (until the rules read them all)",
                cpu_on,
                "s",
                baseline=cpu_off,
                baseline_name="rules off",
                detail=", ".join(f"{x:.3f}" for x in cpu[True]),
            ),
            Figure(
                SECTION,
                "follower process CPU per 1,000 events, rules on",
                median(follower_cpu[True]),
                "s",
                detail=", ".join(f"{x:.3f}" for x in follower_cpu[True]),
            ),
            Figure(
                SECTION,
                "server + follower CPU per 1,000 events, rules on",
                both_on,
                "s",
                baseline=both_off,
                baseline_name="rules off",
                detail=", ".join(f"{x:.3f}" for x in both_cpu[True]),
            ),
            Figure(
                SECTION,
                "alert latency p95 (event acknowledged → alert listed)",
                p95 * 1000,
                "ms",
                detail=(
                    f"p50 {median(latencies) * 1000:.0f} ms, "
                    f"max {max(latencies) * 1000:.0f} ms, {rounds} rounds"
                ),
                target="< 2000 ms",
                passed=p95 < 2.0,
            ),
        ]
    )
