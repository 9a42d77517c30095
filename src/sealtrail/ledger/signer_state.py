"""The signer's own memory of what it signed, kept beside the key, not in the database.

A rollback guard that reads the database it guards is no guard: whoever can
truncate the events can delete the later checkpoint rows too, or restore last
night's copy of the whole file. So the signer keeps, per origin, the last
checkpoint it signed (the signed note itself, with any witness cosignatures
added later) in a directory next to its key, and refuses to sign a tree that
is not a consistent extension of it. Someone who can rewrite this directory
can also read the key; what stops *them* is witnesses (c2sp.org/tlog-witness).

Layout: ``<dir>/<sha256(origin) hex>`` holds the note (the same origin hash
tlog-witness uses in its monitoring URLs), ``<dir>/<hash>.lock`` is the lock.

Several API processes on one host share the directory safely: a signature is
made while holding an exclusive ``fcntl.flock`` on the origin's lock file,
after reading the state under that lock, and the new state is written to a
temporary file, fsynced and renamed over the old one before the lock is
released, so a reader sees either the old note or the new one, never a torn
file, and two signers never both extend the same state. Processes on several
hosts must share the directory on a filesystem whose ``flock`` is honoured
across hosts, or sign on one host only.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from sealtrail.errors import ConfigurationError

STATE_SUFFIX: Final = ".state"


def default_state_dir(key_file: str | os.PathLike[str]) -> Path:
    """``<key file>.state``: the directory beside the key that holds the state."""
    path = Path(key_file)
    return path.with_name(path.name + STATE_SUFFIX)


def origin_hash(origin: str) -> str:
    """Lowercase hex SHA-256 of the origin line, as tlog-witness names a log."""
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()


class SignerState:
    """Per origin, the last signed note; read freely, written only under the lock."""

    __slots__ = ("directory",)

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def read(self, origin: str) -> str | None:
        """The last note signed for ``origin``, or None if this signer never signed one."""
        path = self.directory / origin_hash(origin)
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigurationError(f"cannot read signer state {path}: {exc.strerror}") from None

    @contextlib.contextmanager
    def locked(self, origin: str) -> Iterator[_Slot]:
        """Hold ``origin``'s lock: read its state and replace it, no one else between."""
        self._ensure_directory()
        name = origin_hash(origin)
        lock_path = self.directory / f"{name}.lock"
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot open signer lock {lock_path}: {exc.strerror}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield _Slot(self, origin, self.directory / name)
        finally:
            os.close(fd)  # closing releases the lock

    def _ensure_directory(self) -> None:
        try:
            self.directory.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot create signer state directory {self.directory}: {exc.strerror}"
            ) from None


class _Slot:
    """One origin's state while its lock is held."""

    __slots__ = ("_origin", "_path", "_state")

    def __init__(self, state: SignerState, origin: str, path: Path) -> None:
        self._state = state
        self._origin = origin
        self._path = path

    def read(self) -> str | None:
        return self._state.read(self._origin)

    def write(self, note: str) -> None:
        """Replace the state atomically and durably (temp file, fsync, rename, fsync dir)."""
        temporary = self._path.with_name(f".{self._path.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(note)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self._path)
            directory = os.open(self._path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise ConfigurationError(
                f"cannot write signer state {self._path}: {exc.strerror}"
            ) from None
