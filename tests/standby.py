"""A real hot standby of the test PostgreSQL server, for the tests that read from one.

``Standby.start`` copies the running server with ``pg_basebackup -R`` (a streaming
replica: it connects back to the primary and replays its WAL as it is written) into a
scratch data directory, and starts it with Debian's ``pg_ctl`` on another free local
port. Every database of the primary — including each fresh test database created
afterwards — appears on it. As root, the PostgreSQL binaries run as the ``postgres``
OS user (``pg_ctl`` refuses root), so the data directory lives in a directory that
user can reach (a ``tempfile.mkdtemp`` under the system temp dir, removed at the end).

The primary must accept replication connections from 127.0.0.1 (``.ci/run`` adds
``host replication all 127.0.0.1/32 trust`` to its pg_hba.conf, once) and keep the
default ``wal_level = replica``.

The copy streams through a replication slot of its own (``sealtrail_standby_<pid>_<port>``):
without one, a primary busy with the rest of the suite (every fresh test database is
WAL-logged whole) can recycle the segment the standby needs between the end of the copy
and the standby's first connection, and the standby then waits forever for WAL that no
longer exists. The slot is dropped when the standby stops; a slot left by a test process
that was killed is dropped by the next start.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

PG_BIN_ROOT = Path("/usr/lib/postgresql")
SLOT_PREFIX = "sealtrail_standby_"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _as_postgres(command: list[str]) -> list[str]:
    """``command`` as the postgres OS user when we are root (PostgreSQL refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _run(command: list[str], what: str, log: Path | None = None) -> None:
    done = subprocess.run(_as_postgres(command), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = ""
        if log is not None and log.exists():
            tail = " | " + " | ".join(log.read_text(errors="replace").splitlines()[-5:])
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stderr.strip()}{tail}")


def _bindir(admin_url: str) -> Path:
    """Debian's binaries of the primary's major version."""
    with psycopg.connect(admin_url) as connection:
        row = connection.execute("SHOW server_version_num").fetchone()
    assert row is not None
    path = PG_BIN_ROOT / str(int(row[0]) // 10000) / "bin"
    if not (path / "pg_basebackup").is_file():
        raise RuntimeError(f"no PostgreSQL binaries at {path}")
    return path


def lsn(text: str) -> int:
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


@dataclass
class Standby:
    port: int
    root: Path
    bindir: Path
    primary_url: str

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def slot(self) -> str:
        return f"{SLOT_PREFIX}{os.getpid()}_{self.port}"

    def log_tail(self, lines: int = 8) -> str:
        log = self.root / "standby.log"
        if not log.exists():
            return "(no standby log)"
        return " | ".join(log.read_text(errors="replace").splitlines()[-lines:])

    def url(self, primary_database_url: str) -> str:
        """The URL of the same database on the standby."""
        database = primary_database_url.rsplit("/", 1)[1]
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    @classmethod
    def start(cls, admin_url: str) -> Standby:
        bindir = _bindir(admin_url)
        root = Path(tempfile.mkdtemp(prefix="sealtrail-standby-"))
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        root.chmod(0o700)
        standby = cls(_free_port(), root, bindir, admin_url)
        _drop_orphaned_slots(admin_url)
        try:
            standby._copy_and_start()
        except BaseException:
            standby.stop()
            raise
        return standby

    def _copy_and_start(self) -> None:
        host_port = self.primary_url.split("@", 1)[1].split("/", 1)[0]
        host, _, port = host_port.partition(":")
        _run(
            [
                str(self.bindir / "pg_basebackup"),
                f"--host={host}",
                f"--port={port or 5432}",
                "--username=postgres",
                f"--pgdata={self.data}",
                "--write-recovery-conf",  # -R: standby.signal + primary_conninfo
                "--wal-method=stream",
                "--create-slot",
                f"--slot={self.slot}",
                "--checkpoint=fast",
                "--no-sync",
            ],
            "pg_basebackup",
        )
        # Debian keeps the server's configuration in /etc, so the copy has none of its
        # own: give the standby a small one (postgresql.auto.conf and its recovery
        # settings came along with the copy and still apply).
        settings = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            "hot_standby": "on",
            "hot_standby_feedback": "on",
            # A hot standby needs at least the primary's values of these.
            **self._primary_settings(
                "max_connections",
                "max_worker_processes",
                "max_wal_senders",
                "max_prepared_transactions",
                "max_locks_per_transaction",
            ),
            "shared_buffers": "32MB",
            "logging_collector": "off",
            "fsync": "off",
        }
        config = "".join(f"{k} = {v}\n" for k, v in settings.items())
        hba = "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        for name, text in (
            ("postgresql.conf", config),
            ("pg_hba.conf", hba),
            ("pg_ident.conf", ""),
        ):
            path = self.root / name
            path.write_text(text)
            if os.geteuid() == 0:
                shutil.chown(path, "postgres", "postgres")
            _run(["cp", str(path), str(self.data / name)], f"installing {name}")
        _run(
            [
                str(self.bindir / "pg_ctl"),
                "--pgdata",
                str(self.data),
                "--log",
                str(self.root / "standby.log"),
                "--wait",
                "--timeout=120",
                "start",
            ],
            "pg_ctl start",
            log=self.root / "standby.log",
        )
        with psycopg.connect(self.url(self.primary_url), connect_timeout=10) as connection:
            row = connection.execute("SELECT pg_is_in_recovery()").fetchone()
        if row is None or not row[0]:
            raise RuntimeError("the copy started, but not as a standby")

    def _primary_settings(self, *names: str) -> dict[str, str]:
        with psycopg.connect(self.primary_url) as connection:
            rows = connection.execute(
                "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", (list(names),)
            ).fetchall()
        return {str(name): str(value) for name, value in rows}

    def wait_for_replay(self, timeout: float = 300.0) -> None:
        """Wait until the standby has replayed everything the primary has written so far.

        Generous: a standby just copied from a busy primary (the rest of the suite
        writing beside it on two cores) first replays all it missed during the copy."""
        with psycopg.connect(self.primary_url, autocommit=True) as primary:
            row = primary.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
        assert row is not None
        wanted = lsn(row[0])
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.url(self.primary_url), autocommit=True) as standby:
            while True:
                found = standby.execute("SELECT pg_last_wal_replay_lsn()::text").fetchone()
                if found is not None and found[0] is not None and lsn(found[0]) >= wanted:
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"the standby did not replay up to {row[0]} in {timeout} s; "
                        f"its log: {self.log_tail()}"
                    )
                time.sleep(0.01)  # polling the standby's replay position

    def pause_replay(self, database_url: str) -> None:
        with psycopg.connect(self.url(database_url), autocommit=True) as connection:
            connection.execute("SELECT pg_wal_replay_pause()")

    def resume_replay(self, database_url: str) -> None:
        with psycopg.connect(self.url(database_url), autocommit=True) as connection:
            connection.execute("SELECT pg_wal_replay_resume()")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                _as_postgres(
                    [
                        str(self.bindir / "pg_ctl"),
                        "--pgdata",
                        str(self.data),
                        "-m",
                        "immediate",
                        "stop",
                    ]
                ),
                capture_output=True,
                check=False,
            )
        shutil.rmtree(self.root, ignore_errors=True)
        # The primary's walsender notices the stopped standby a moment later; until then
        # the slot is still active and cannot be dropped.
        deadline = time.monotonic() + 30
        with psycopg.connect(self.primary_url, autocommit=True) as primary:
            while True:
                row = primary.execute(
                    "SELECT active FROM pg_replication_slots WHERE slot_name = %s", (self.slot,)
                ).fetchone()
                if row is None:
                    return
                if not row[0]:
                    primary.execute("SELECT pg_drop_replication_slot(%s)", (self.slot,))
                    return
                if time.monotonic() > deadline:
                    return  # the next start drops it (_drop_orphaned_slots)
                time.sleep(0.1)  # waiting for the walsender to notice the disconnect


def _drop_orphaned_slots(admin_url: str) -> None:
    """Drop the slots of standbys whose test process no longer runs: a slot nobody reads
    keeps every WAL segment on the primary from then on."""
    with psycopg.connect(admin_url, autocommit=True) as primary:
        names = [
            str(name)
            for (name,) in primary.execute(
                "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE %s AND NOT active",
                (SLOT_PREFIX + "%",),
            ).fetchall()
        ]
        for name in names:
            owner = re.fullmatch(re.escape(SLOT_PREFIX) + r"(\d+)_\d+", name)
            if owner is not None and Path(f"/proc/{owner.group(1)}").exists():
                continue  # its test process still runs: its standby is reconnecting
            primary.execute("SELECT pg_drop_replication_slot(%s)", (name,))
