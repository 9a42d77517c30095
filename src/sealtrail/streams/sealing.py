"""Stream secrets encrypted at rest: webhook HMAC secrets and Ed25519 private keys never
lie in the database in the clear.

A stream's keys (``streams.config.SecretSet`` as JSON) are stored as ``fernet:<token>``,
encrypted with Fernet (``cryptography``: AES-128-CBC and HMAC-SHA256, authenticated) under
the operator's **stream secrets key**:

- ``stream_secrets_key`` (``SEALTRAIL_STREAM_SECRETS_KEY``): one or more Fernet keys
  (``Fernet.generate_key()``, or ``sealtrail streams new-secrets-key``), comma-separated,
  newest first. The first encrypts; every one decrypts, so a key can be rotated: put the
  new key first, run ``sealtrail streams rekey`` (re-encrypts every stream under it), then
  drop the old one.
- Otherwise the key file ``stream_secrets_key_file`` (default: beside the log's signing
  key, ``sealtrail-stream-secrets.key``), the same keys one a line, created with mode
  0600 on first use, with a warning: back it up with the signing key, and give every
  process that serves the database the same key.

Rows written before encryption (plain JSON, ``[…]``) are still read, and are encrypted by
``sealtrail migrate`` and ``sealtrail streams rekey``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from sealtrail.errors import ConfigurationError

__all__ = [
    "DEFAULT_KEY_FILE_NAME",
    "SEALED_PREFIX",
    "SecretBox",
    "is_sealed",
    "load_or_create_key_file",
    "parse_keys",
]

log = logging.getLogger(__name__)

SEALED_PREFIX: Final = "fernet:"
DEFAULT_KEY_FILE_NAME: Final = "sealtrail-stream-secrets.key"


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


def parse_keys(text: str, where: str) -> list[bytes]:
    """Fernet keys separated by commas or newlines, newest first."""
    keys = [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]
    if not keys:
        raise ConfigurationError(f"{where} holds no stream secrets key")
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ConfigurationError(
                f"{where}: a stream secrets key is a Fernet key (32 bytes, url-safe base64;"
                " make one with: sealtrail streams new-secrets-key)"
            ) from None
    return [k.encode("ascii") for k in keys]


class SecretBox:
    """Encrypts and decrypts stream secrets with the configured keys (the first encrypts)."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ConfigurationError("a stream secrets box needs a key")
        fernets = [Fernet(k) for k in keys]
        self._first = fernets[0]
        self._fernet = MultiFernet(fernets)

    def seal(self, plaintext: str) -> str:
        return SEALED_PREFIX + self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def open(self, stored: str) -> str:
        """The plaintext of a sealed value; a value written before encryption as it is."""
        if not is_sealed(stored):
            return stored
        try:
            return self._fernet.decrypt(stored[len(SEALED_PREFIX) :].encode("ascii")).decode()
        except InvalidToken:
            raise ConfigurationError(
                "a stream's secrets do not decrypt with the configured stream_secrets_key"
                " (was the key replaced without `sealtrail streams rekey`?)"
            ) from None

    def reseal(self, stored: str) -> str:
        """``stored`` encrypted under the first key (plaintext rows too)."""
        if not is_sealed(stored):
            return self.seal(stored)
        try:
            token = self._fernet.rotate(stored[len(SEALED_PREFIX) :].encode("ascii"))
        except InvalidToken:
            raise ConfigurationError(
                "a stream's secrets do not decrypt with any configured stream secrets key"
            ) from None
        return SEALED_PREFIX + token.decode("ascii")

    def current(self, stored: str) -> bool:
        """Whether ``stored`` is already sealed under the first key."""
        if not is_sealed(stored):
            return False
        try:
            self._first.decrypt(stored[len(SEALED_PREFIX) :].encode("ascii"))
        except InvalidToken:
            return False
        return True


def load_or_create_key_file(path: str | os.PathLike[str]) -> list[bytes]:
    """The keys in ``path``, made (one new key, mode 0600) if the file does not exist."""
    key_path = Path(path)
    if not key_path.exists() and _create_key_file(key_path):
        log.warning(
            "made a new stream secrets key in %s: stream secrets are encrypted with it."
            " Back it up with the signing key; every process serving this database needs"
            " the same key (or set stream_secrets_key)",
            key_path,
        )
    try:
        info = key_path.stat()
        if info.st_mode & 0o077:
            raise ConfigurationError(
                f"stream secrets key file {key_path} has mode {stat.S_IMODE(info.st_mode):04o};"
                " it must be readable by its owner only (chmod 600)"
            )
        text = key_path.read_text("ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read stream secrets key file {key_path}: {exc}") from None
    return parse_keys(text, f"stream secrets key file {key_path}")


def _create_key_file(path: Path) -> bool:
    """Write a new key to ``path``, linked into place only once complete (a concurrent
    starter either wins or reads the winner's key); False if another process won."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    except OSError as exc:
        raise ConfigurationError(
            f"cannot create stream secrets key file {path}: {exc.strerror}"
        ) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
