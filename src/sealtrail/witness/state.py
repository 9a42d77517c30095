"""The witness's own SQLite file: which logs it trusts and the latest checkpoint it
cosigned for each, checked and advanced in one ``BEGIN IMMEDIATE`` transaction so two
concurrent requests can never roll the record back (c2sp.org/tlog-witness)."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sealtrail.errors import ConfigurationError
from sealtrail.ledger.signer_state import origin_hash

T = TypeVar("T")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS logs (origin TEXT PRIMARY KEY, vkeys TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS checkpoints (
        origin       TEXT PRIMARY KEY,
        origin_hash  TEXT NOT NULL UNIQUE,
        size         INTEGER NOT NULL,
        root         BLOB NOT NULL,
        note         TEXT NOT NULL,
        updated_at   INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS evidence (
        id           INTEGER PRIMARY KEY,
        origin       TEXT NOT NULL,
        received_at  INTEGER NOT NULL,
        reason       TEXT NOT NULL,
        body         BLOB NOT NULL
    )""",
)


@dataclass(frozen=True, slots=True)
class Latest:
    """The latest checkpoint cosigned for an origin (size 0 and no root if none)."""

    size: int
    root: bytes | None
    note: str | None


class Record:
    """One transaction on the state: read an origin's latest, then maybe advance it."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def latest(self, origin: str) -> Latest:
        row = self._db.execute(
            "SELECT size, root, note FROM checkpoints WHERE origin = ?", (origin,)
        ).fetchone()
        return Latest(0, None, None) if row is None else Latest(row[0], bytes(row[1]), row[2])

    def advance(self, origin: str, size: int, root: bytes, note: str) -> None:
        self._db.execute(
            "INSERT INTO checkpoints (origin, origin_hash, size, root, note, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET"
            " size = excluded.size, root = excluded.root, note = excluded.note,"
            " updated_at = excluded.updated_at",
            (origin, origin_hash(origin), size, root, note, int(time.time())),
        )


class WitnessState:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with self._connect() as db:
            for statement in _SCHEMA:
                db.execute(statement)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        except sqlite3.Error as exc:
            raise ConfigurationError(f"cannot open witness state {self.path}: {exc}") from None
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            yield db
        finally:
            db.close()

    def add_log(self, origin: str, vkeys: list[str]) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO logs (origin, vkeys) VALUES (?, ?)"
                " ON CONFLICT (origin) DO UPDATE SET vkeys = excluded.vkeys",
                (origin, "\n".join(vkeys)),
            )

    def logs(self) -> dict[str, list[str]]:
        with self._connect() as db:
            rows = db.execute("SELECT origin, vkeys FROM logs ORDER BY origin").fetchall()
        return {origin: vkeys.split("\n") for origin, vkeys in rows}

    def transaction(self, work: Callable[[Record], T]) -> T:
        """Run ``work`` in one write transaction: committed if it returns, rolled back if
        it raises. Concurrent requests for the witness are serialised here."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                result = work(Record(db))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result

    def keep_evidence(self, origin: str, reason: str, body: bytes) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO evidence (origin, received_at, reason, body) VALUES (?, ?, ?, ?)",
                (origin, int(time.time()), reason, body),
            )

    def evidence(self) -> list[tuple[str, str, bytes]]:
        with self._connect() as db:
            rows = db.execute("SELECT origin, reason, body FROM evidence ORDER BY id").fetchall()
        return [(origin, reason, bytes(body)) for origin, reason, body in rows]

    def checkpoint_by_hash(self, hashed: str) -> str | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT note FROM checkpoints WHERE origin_hash = ?", (hashed,)
            ).fetchone()
        return None if row is None else str(row[0])
