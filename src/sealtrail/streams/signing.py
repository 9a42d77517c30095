"""Standard Webhooks signatures (www.standardwebhooks.com): ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature`` over ``id.timestamp.body``.

Two schemes, as the spec names them: ``v1`` is HMAC-SHA256 with a shared secret
(``whsec_`` + base64 of 24–64 random bytes), ``v1a`` is Ed25519 (``whsk_`` + base64 of the
32-byte private seed, ``whpk_`` + base64 of the 32-byte public key, which receivers
pin). A ``WebhookSigner`` holds one or more keys; rotating adds the new key and keeps
the old ones signing until their overlap window ends, so the signature header carries
several space-separated signatures and receivers switch over without downtime.

The ``standardwebhooks`` package verifies ``v1`` in our tests; it has no ``v1a`` and
signs only through a ``datetime``, so signing here is the stdlib's HMAC and
``cryptography``'s Ed25519 over the spec's exact bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Final, TypeAlias

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sealtrail.errors import ConfigurationError, InvalidInput

__all__ = [
    "Ed25519Secret",
    "HmacSecret",
    "RotatingKey",
    "SigningSecret",
    "WebhookSigner",
    "parse_secret",
    "signed_content",
    "verify_ed25519",
]

_MSG_ID: Final = re.compile(r"[A-Za-z0-9_\-:]{1,128}")
MIN_HMAC_BYTES: Final = 24
MAX_HMAC_BYTES: Final = 64


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{what} is not base64") from None


@dataclass(frozen=True, slots=True, repr=False)
class HmacSecret:
    """A symmetric ``v1`` secret."""

    key: bytes

    def __post_init__(self) -> None:
        if not MIN_HMAC_BYTES <= len(self.key) <= MAX_HMAC_BYTES:
            raise ConfigurationError(
                f"a webhook secret is {MIN_HMAC_BYTES} to {MAX_HMAC_BYTES} bytes"
            )

    @classmethod
    def generate(cls) -> HmacSecret:
        return cls(secrets.token_bytes(32))

    def serialize(self) -> str:
        return "whsec_" + base64.b64encode(self.key).decode("ascii")

    def sign(self, content: bytes) -> str:
        digest = hmac.new(self.key, content, hashlib.sha256).digest()
        return "v1," + base64.b64encode(digest).decode("ascii")

    def __repr__(self) -> str:
        return "HmacSecret(…)"


@dataclass(frozen=True, slots=True, repr=False)
class Ed25519Secret:
    """An asymmetric ``v1a`` key pair; receivers verify with ``public_key()``."""

    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> Ed25519Secret:
        return cls(Ed25519PrivateKey.generate())

    def serialize(self) -> str:
        return "whsk_" + base64.b64encode(self.private.private_bytes_raw()).decode("ascii")

    def public_key(self) -> str:
        raw = self.private.public_key().public_bytes_raw()
        return "whpk_" + base64.b64encode(raw).decode("ascii")

    def sign(self, content: bytes) -> str:
        return "v1a," + base64.b64encode(self.private.sign(content)).decode("ascii")

    def __repr__(self) -> str:
        return f"Ed25519Secret({self.public_key()})"


SigningSecret: TypeAlias = HmacSecret | Ed25519Secret


def parse_secret(text: str) -> SigningSecret:
    """``whsec_…`` (HMAC) or ``whsk_…`` (Ed25519: a 32-byte seed, or seed ‖ public key)."""
    if text.startswith("whsec_"):
        return HmacSecret(_b64decode(text[6:], "the webhook secret"))
    if text.startswith("whsk_"):
        raw = _b64decode(text[5:], "the webhook signing key")
        if len(raw) not in (32, 64):
            raise ConfigurationError("an Ed25519 webhook signing key is 32 (or 64) bytes")
        private = Ed25519PrivateKey.from_private_bytes(raw[:32])
        if len(raw) == 64 and private.public_key().public_bytes_raw() != raw[32:]:
            raise ConfigurationError("the Ed25519 signing key's public half does not match")
        return Ed25519Secret(private)
    raise ConfigurationError("a webhook secret starts with whsec_ or whsk_")


def signed_content(msg_id: str, timestamp: int, body: bytes) -> bytes:
    """What both schemes sign: ``msg_id.timestamp.body``, the body byte for byte."""
    if not _MSG_ID.fullmatch(msg_id):
        raise InvalidInput("a webhook id is 1-128 of A-Z a-z 0-9 _ - : (no '.' or spaces)")
    if timestamp < 0:
        raise InvalidInput("a webhook timestamp is seconds since the epoch")
    return f"{msg_id}.{timestamp}.".encode("ascii") + body


@dataclass(frozen=True, slots=True)
class RotatingKey:
    """A secret and, once it has been rotated out, the time it stops signing."""

    secret: SigningSecret
    retires_at: int | None = None

    def signs_at(self, timestamp: int) -> bool:
        return self.retires_at is None or timestamp < self.retires_at


@dataclass(frozen=True, slots=True)
class WebhookSigner:
    """Signs deliveries with every key that is current at the delivery's timestamp."""

    keys: tuple[RotatingKey, ...]

    def __post_init__(self) -> None:
        if not any(key.retires_at is None for key in self.keys):
            raise ConfigurationError("a webhook signer needs a current key")

    @classmethod
    def of(cls, *secrets_: SigningSecret | str) -> WebhookSigner:
        return cls(
            tuple(RotatingKey(parse_secret(s) if isinstance(s, str) else s) for s in secrets_)
        )

    def rotate(self, new: SigningSecret, *, now: int, overlap: int) -> WebhookSigner:
        """Sign with ``new`` from now on and with today's keys for ``overlap`` more seconds.

        Keys whose window has already closed are dropped.
        """
        kept = tuple(
            RotatingKey(k.secret, now + overlap if k.retires_at is None else k.retires_at)
            for k in self.keys
            if k.signs_at(now)
        )
        return WebhookSigner((RotatingKey(new), *kept))

    def signature(self, msg_id: str, timestamp: int, body: bytes) -> str:
        """The ``webhook-signature`` value: one signature per current key, space-separated."""
        content = signed_content(msg_id, timestamp, body)
        return " ".join(k.secret.sign(content) for k in self.keys if k.signs_at(timestamp))

    def headers(self, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": self.signature(msg_id, timestamp, body),
        }


def verify_ed25519(public_key: str, signature_header: str, content: bytes) -> bool:
    """Whether any ``v1a`` signature in a ``webhook-signature`` header verifies."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if not public_key.startswith("whpk_"):
        raise ConfigurationError("an Ed25519 webhook public key starts with whpk_")
    key = Ed25519PublicKey.from_public_bytes(_b64decode(public_key[5:], "the public key"))
    for item in signature_header.split(" "):
        version, _, value = item.partition(",")
        if version != "v1a":
            continue
        try:
            key.verify(base64.b64decode(value), content)
        except (InvalidSignature, binascii.Error, ValueError):
            continue
        return True
    return False
