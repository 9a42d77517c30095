"""``sealtrail serve``'s default deployment: the followers in a ``sealtrail follow`` child.

Real processes throughout: ``serve`` on SQLite, its child, a local HTTPS webhook
receiver. The child delivers the streams and opens the alerts; killed, it is started
again and nothing is lost or repeated; ``serve`` stopped with SIGTERM stops it, and a
``serve`` killed with SIGKILL leaves it to notice and stop by itself. ``sealtrail
follow`` on its own stops cleanly on SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.settings import Settings
from sealtrail.store import open_store
from sealtrail.stream_admin import consumer_name
from tests.client.live_server import SEALTRAIL, LiveServer, missing_cli, wait_until
from tests.streams.webhook_receiver import Receiver
from tests.streams.webhook_receiver import receiver as receiver  # the fixture

from .harness import TENANT, Writers, log_ids, serving, streams_caught_up, webhook_events

pytestmark = [
    pytest.mark.skipif(missing_cli() is not None, reason=str(missing_cli())),
    pytest.mark.timeout(300),
]


def _setup(server: LiveServer) -> tuple[str, str]:
    settings = Settings(
        database_url=server.database, signing_key_file=server.env["SEALTRAIL_SIGNING_KEY_FILE"]
    )
    log = AuditLog.open(settings=settings)
    try:
        log.migrate()
        log.create_tenant(TENANT)
        key = log.create_api_key(TENANT, "events:write,events:read,streams:manage").plain
        return key, log.verifier_key
    finally:
        log.close()


def _stream(server: LiveServer, key: str, receiver: Receiver) -> dict[str, object]:
    answer = httpx.post(
        f"{server.url}/v1/streams",
        json={
            "name": "siem",
            "destination": {"type": "webhook", "url": receiver.url},
            "format": "ndjson",
        },
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 201, answer.text
    created: dict[str, object] = answer.json()
    return created


def _start_seq(stream: dict[str, object]) -> int:
    delivery = stream["delivery"]
    assert isinstance(delivery, dict)
    start: int = delivery["next_seq"]
    return start


def _gone(pid: int) -> bool:
    """Exited (a zombie not reaped yet counts as exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


def _parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def _niceness(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[16])


def _one_child(server: LiveServer, count: int = 1) -> int:
    """The pid of serve's ``count``-th follow child, once it is following (it says so)."""
    wait_until(lambda: len(server.follow_pids()) >= count, 30, "serve to start sealtrail follow")
    pid = server.follow_pids()[count - 1]
    wait_until(
        lambda: f"sealtrail follow (pid {pid}): streams" in server.log_path.read_text(),
        60,
        "the follow child to start its followers",
    )
    return pid


def _detections_done(server: LiveServer) -> bool:
    """The detections have read the whole log and published every alert they opened."""
    store = open_store(server.database)
    try:
        size = store.tree_head(TENANT).size
        done = store.detection_progress(TENANT, f"detection:{TENANT}")
        return done == size and not store.unpublished_alerts(TENANT)
    finally:
        store.close()


def _lease_owner(server: LiveServer, name: str) -> str | None:
    store = open_store(server.database)
    try:
        state = store.get_consumer(TENANT, name)
        return None if state is None else state.lease_owner
    finally:
        store.close()


def test_serve_delivers_and_detects_in_a_follow_child(tmp_path: Path, receiver: Receiver) -> None:
    server = serving(tmp_path, receiver.cert.cert)
    server.env["SEALTRAIL_DETECTIONS"] = "true"
    assert "SEALTRAIL_FOLLOWERS" not in server.env  # the default deployment
    key, vkey = _setup(server)
    server.start()
    try:
        child = _one_child(server)
        assert _parent_of(child) == server.pid
        # Below the API process: it takes the CPU the requests leave (followers_nice).
        assert _niceness(child) == _niceness(server.pid) + 10
        stream = _stream(server, key, receiver)
        auth = {"Authorization": f"Bearer {key}"}
        ip = "198.18.0.7"
        failed = [
            {
                "action": "auth.login",
                "outcome": "failure",
                "ip": ip,
                "actor": {"type": "user", "id": f"u{i}"},
            }
            for i in range(10)
        ]
        answer = httpx.post(f"{server.url}/v1/events", json={"events": failed}, headers=auth)
        assert answer.status_code == 201, answer.text
        Writers(server.url, key, 400, writers=2).start().join(60)

        def alerted() -> bool:
            alerts = httpx.get(f"{server.url}/v1/alerts", headers=auth).json()["alerts"]
            return any(a["group"].get("ip") == ip for a in alerts)

        wait_until(alerted, 30, "the follow child to open the alert")
        # The alert's own event (audit_log.alert_opened) is in the log and streamed too.
        wait_until(
            lambda: any(i.startswith("alert-") for i in log_ids(server.database)),
            30,
            "the alert's event",
        )
        wait_until(lambda: _detections_done(server), 60, "the detections to read the log")
        ids = log_ids(server.database)
        wait_until(lambda: streams_caught_up(server, key, len(ids)), 60, "the stream")
        start = _start_seq(stream)
        delivered, _ = webhook_events(receiver, str(stream["secret"]), vkey, start)
        assert delivered == ids[start:]
        # The child held the stream's and the detections' leases, not serve.
        owner = _lease_owner(server, consumer_name(str(stream["id"])))
        assert owner is not None and owner.split(":")[1] == str(child)
        owner = _lease_owner(server, f"detection:{TENANT}")
        assert owner is not None and owner.split(":")[1] == str(child)
    finally:
        server.kill()


def test_a_killed_follow_child_is_started_again_and_nothing_is_lost(
    tmp_path: Path, receiver: Receiver
) -> None:
    server = serving(tmp_path, receiver.cert.cert, lease_seconds=3)
    key, vkey = _setup(server)
    server.start()
    try:
        first = _one_child(server)
        stream = _stream(server, key, receiver)
        writers = Writers(server.url, key, 4000, writers=2).start()
        wait_until(lambda: writers.stored >= 1000, 60, "the first events")
        wait_until(lambda: len(receiver.received) > 0, 30, "a first delivery")
        os.kill(first, signal.SIGKILL)
        second = _one_child(server, 2)
        assert second != first
        assert _parent_of(second) == server.pid
        writers.join(120)
        ids = log_ids(server.database)
        wait_until(lambda: streams_caught_up(server, key, len(ids)), 120, "the stream")
        start = _start_seq(stream)
        # The documented receiver refuses gaps and drops redeliveries: every event once.
        delivered, next_seq = webhook_events(receiver, str(stream["secret"]), vkey, start)
        assert delivered == ids[start:]
        assert next_seq == len(ids)
        assert "exited with status -9; starting it again in 1 s" in server.log_path.read_text()
    finally:
        server.kill()


def test_sigterm_stops_serve_and_its_follow_child(tmp_path: Path, receiver: Receiver) -> None:
    server = serving(tmp_path, receiver.cert.cert)
    _setup(server)
    server.start()
    child = _one_child(server)
    status = server.terminate()
    assert status in (0, -signal.SIGTERM), status
    assert _gone(child)
    log = server.log_path.read_text()
    assert f"sealtrail follow (pid {child}): stopped" in log
    assert "Traceback" not in log


def test_a_follow_child_outlives_a_killed_serve_by_a_moment_only(
    tmp_path: Path, receiver: Receiver
) -> None:
    server = serving(tmp_path, receiver.cert.cert)
    _setup(server)
    server.start()
    child = _one_child(server)
    server.kill()
    wait_until(lambda: _gone(child), 10, "the orphaned follow child to stop")
    assert "the serve process is gone; stopped" in server.log_path.read_text()


def test_followers_thread_and_off_start_no_child(tmp_path: Path, receiver: Receiver) -> None:
    for place in ("thread", "off"):
        server = serving(tmp_path, receiver.cert.cert)
        server.env["SEALTRAIL_FOLLOWERS"] = place
        server.log_path = tmp_path / f"serve-{place}.log"
        server.start()
        try:
            assert server.follow_pids() == []
        finally:
            server.kill()


def test_follow_alone_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    _setup(server)
    process = subprocess.Popen(
        [SEALTRAIL, "follow", "--database", server.database],
        env=server.env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    started = process.stderr.readline()
    assert started == f"sealtrail follow (pid {process.pid}): streams\n"
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    assert process.stderr.read() == f"sealtrail follow (pid {process.pid}): stopped\n"


def test_follow_with_nothing_to_follow_says_so(tmp_path: Path) -> None:
    server = LiveServer(tmp_path, stream_delivery="false")
    done = subprocess.run(
        [SEALTRAIL, "follow", "--database", server.database],
        env=server.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == (
        "error: nothing to follow: stream_delivery and detections are both off\n"
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "FOLLOWERS",
            "elsewhere",
            "followers must be one of process, thread, off, not 'elsewhere'",
        ),
        ("FOLLOWERS_NICE", "20", "followers_nice must be 0..19, not 20"),
    ],
)
def test_a_bad_followers_setting_is_one_line(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    server = LiveServer(tmp_path)
    server.env[f"SEALTRAIL_{name}"] = value
    done = subprocess.run(
        [SEALTRAIL, "serve", "--database", server.database],
        env=server.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == f"error: {message}\n"
