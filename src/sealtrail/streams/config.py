"""A stream's configuration as the API takes it (SPEC §11), checked once, here.

``{"name", "destination": {"type": "webhook", "url"} | {"type": "syslog", "host", "port",
"tls"}, "format": "json" | "ndjson" | "ocsf" | "cef", "filter": "<search phrase>"?}``

- **Webhooks** are ``https://`` URLs. ``json`` posts the JSON body with Sealtrail JSON
  events, ``ndjson`` the NDJSON body, ``ocsf`` the JSON body with OCSF 1.8.0 events,
  ``cef`` the JSON body with CEF lines (``streams.bodies``).
- **Syslog** writes RFC 5424 messages (``json`` and ``ndjson`` both carry Sealtrail JSON
  in MSG; ``ocsf`` OCSF; ``cef`` CEF) over TCP, or TLS when ``tls`` is true.
- The **filter** is a search phrase (SPEC §8): it is parsed here, so a stream never holds
  one that does not parse, and read by the store exactly as search reads it.

``StreamSpec.from_body`` takes a create body; ``StreamSpec.patched`` a ``PATCH`` body
(any of the four members, ``filter: null`` clearing the filter, and ``status``:
``active`` or ``paused``). A create body may also say how a webhook is signed:
``"signing": {"scheme": "v1" | "v1a", "secret"?: "whsec_…" | "whsk_…"}``, read by
``SigningChoice.from_body`` (HMAC ``v1`` by default; without ``secret`` one is
generated). Webhook signing keys are kept as ``SecretSet``: the current key and those
rotated out but signing until their overlap window closes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Final, Literal, TypeAlias, cast

import httpx

from sealtrail.errors import ConfigurationError, InvalidInput
from sealtrail.limits import (
    MAX_STREAM_NAME,
    MAX_STREAM_URL,
    STREAM_DESTINATION_TYPES,
    STREAM_FORMATS,
    StreamFormat,
)
from sealtrail.query import EventQuery, parse_phrase
from sealtrail.streams.signing import (
    Ed25519Secret,
    HmacSecret,
    RotatingKey,
    SigningSecret,
    WebhookSigner,
    parse_secret,
)

__all__ = [
    "SIGNING_SCHEMES",
    "STREAM_STATUSES",
    "Destination",
    "SecretSet",
    "SigningChoice",
    "SigningScheme",
    "StreamSpec",
    "StreamStatus",
    "SyslogDestination",
    "WebhookDestination",
]

StreamStatus = Literal["active", "paused"]
STREAM_STATUSES: Final[tuple[StreamStatus, ...]] = ("active", "paused")
_FIELDS: Final = frozenset({"name", "destination", "format", "filter"})
SigningScheme = Literal["v1", "v1a"]
SIGNING_SCHEMES: Final[tuple[SigningScheme, ...]] = ("v1", "v1a")


@dataclass(frozen=True, slots=True)
class WebhookDestination:
    url: str
    type: Literal["webhook"] = "webhook"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "webhook", "url": self.url}

    def describe(self) -> str:
        return self.url

    def endpoint(self) -> tuple[str, int, str]:
        """The host and port connected to, and the member that names them."""
        url = httpx.URL(self.url)
        return url.host, url.port or 443, "destination.url"


@dataclass(frozen=True, slots=True)
class SyslogDestination:
    host: str
    port: int
    tls: bool
    type: Literal["syslog"] = "syslog"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "syslog", "host": self.host, "port": self.port, "tls": self.tls}

    def describe(self) -> str:
        return f"syslog{'+tls' if self.tls else ''}://{self.host}:{self.port}"

    def endpoint(self) -> tuple[str, int, str]:
        """The host and port connected to, and the member that names them."""
        return self.host, self.port, "destination.host"


Destination: TypeAlias = WebhookDestination | SyslogDestination


def _text(value: object, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} must be a non-empty string")
    if len(value) > limit:
        raise InvalidInput(f"{what} is longer than {limit} characters")
    if any(c < " " or c == "\x7f" for c in value):
        raise InvalidInput(f"{what} holds a control character")
    return value.strip()


def _destination(value: object) -> Destination:
    if not isinstance(value, dict):
        raise InvalidInput(
            'destination must be {"type": "webhook", "url"} or'
            ' {"type": "syslog", "host", "port", "tls"}'
        )
    kind = value.get("type")
    if kind not in STREAM_DESTINATION_TYPES:
        raise InvalidInput(f"destination.type must be one of {', '.join(STREAM_DESTINATION_TYPES)}")
    allowed = {"type", "url"} if kind == "webhook" else {"type", "host", "port", "tls"}
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise InvalidInput(f"destination.{unknown[0]} is not a member of a {kind} destination")
    if kind == "webhook":
        url = _text(value.get("url"), "destination.url", MAX_STREAM_URL)
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            raise InvalidInput(f"destination.url is not a URL: {url!r}") from None
        if parsed.scheme != "https" or not parsed.host:
            raise InvalidInput("destination.url must be an https:// URL with a host")
        if parsed.userinfo:
            raise InvalidInput("destination.url must not hold a user name or password")
        return WebhookDestination(url)
    host = _text(value.get("host"), "destination.host", 253)
    if any(c.isspace() or c in "/@" for c in host):
        raise InvalidInput(f"destination.host is not a host name or address: {host!r}")
    port = value.get("port")
    if isinstance(port, float) and port.is_integer():  # 514.0 is 514 in JSON
        port = int(port)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise InvalidInput("destination.port must be an integer 1-65535")
    tls = value.get("tls", False)
    if not isinstance(tls, bool):
        raise InvalidInput("destination.tls must be true or false")
    return SyslogDestination(host, port, tls)


def _format(value: object) -> StreamFormat:
    for known in STREAM_FORMATS:
        if value == known:
            return known
    raise InvalidInput(f"format must be one of {', '.join(STREAM_FORMATS)}")


def _filter(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("filter must be a search phrase (a string) or null")
    if not value.strip():
        return None
    parse_phrase(value)  # PhraseSyntaxError points at the offending token
    return value.strip()


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """What a stream delivers, where, and how."""

    name: str
    destination: Destination
    format: StreamFormat
    filter: str | None = None

    @classmethod
    def from_body(cls, body: object) -> StreamSpec:
        if not isinstance(body, dict):
            raise InvalidInput("a stream is a JSON object")
        unknown = sorted(set(body) - _FIELDS - {"signing"})
        if unknown:
            raise InvalidInput(f"{unknown[0]!r} is not a member of a stream")
        for member in ("name", "destination", "format"):
            if member not in body:
                raise InvalidInput(f"a stream needs {member!r}")
        return cls(
            _text(body["name"], "name", MAX_STREAM_NAME),
            _destination(body["destination"]),
            _format(body["format"]),
            _filter(body.get("filter")),
        )

    @classmethod
    def stored(cls, name: str, destination: str, fmt: str, filter_: str | None) -> StreamSpec:
        """A spec as the store keeps it (``destination`` as JSON)."""
        return cls(name, _destination(json.loads(destination)), _format(fmt), filter_)

    def patched(self, body: object) -> tuple[StreamSpec, StreamStatus | None]:
        """This spec with a PATCH body's members, and the ``status`` it asks for, if any."""
        if not isinstance(body, dict) or not body:
            raise InvalidInput(
                "a stream change is a JSON object with any of name, destination, format,"
                " filter, status"
            )
        if "signing" in body:
            raise InvalidInput(
                "a stream's signing keys change by rotation: POST /v1/streams/{id}/rotate-secret"
                ' {"signing": {"scheme"}}'
            )
        unknown = sorted(set(body) - _FIELDS - {"status"})
        if unknown:
            raise InvalidInput(f"{unknown[0]!r} is not a member of a stream")
        spec = self
        if "name" in body:
            spec = replace(spec, name=_text(body["name"], "name", MAX_STREAM_NAME))
        if "destination" in body:
            spec = replace(spec, destination=_destination(body["destination"]))
        if "format" in body:
            spec = replace(spec, format=_format(body["format"]))
        if "filter" in body:
            spec = replace(spec, filter=_filter(body["filter"]))
        status = body.get("status")
        if "status" in body and status not in STREAM_STATUSES:  # null too: not a status
            raise InvalidInput(f"status must be one of {', '.join(STREAM_STATUSES)}")
        if type(spec.destination) is not type(self.destination):
            raise InvalidInput(
                "a stream's destination type cannot change (its secret belongs to a webhook):"
                " create a new stream"
            )
        return spec, cast(StreamStatus | None, status)

    @property
    def query(self) -> EventQuery | None:
        """The filter as a query (None: every event)."""
        if self.filter is None:
            return None
        return parse_phrase(self.filter)

    def destination_json(self) -> str:
        return json.dumps(self.destination.to_dict(), sort_keys=True, separators=(",", ":"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "destination": self.destination.to_dict(),
            "format": self.format,
            "filter": self.filter,
        }

    def changes(self, other: StreamSpec) -> list[str]:
        """The members ``other`` changes, by name."""
        mine, theirs = self.to_dict(), other.to_dict()
        return [k for k in mine if mine[k] != theirs[k]]


def scheme_of(secret: SigningSecret) -> SigningScheme:
    return "v1a" if isinstance(secret, Ed25519Secret) else "v1"


@dataclass(frozen=True, slots=True, repr=False)
class SigningChoice:
    """How a webhook stream signs: a scheme, and the owner's own key or (None) a new one."""

    scheme: SigningScheme = "v1"
    secret: SigningSecret | None = None

    @classmethod
    def from_body(cls, body: object) -> SigningChoice:
        """The ``signing`` member of a create (or rotate) body; the default when absent."""
        if not isinstance(body, dict) or body.get("signing") is None:
            return cls()
        value = body["signing"]
        if not isinstance(value, dict):
            raise InvalidInput('signing must be {"scheme": "v1" | "v1a", "secret"?}')
        unknown = sorted(set(value) - {"scheme", "secret"})
        if unknown:
            raise InvalidInput(f"signing.{unknown[0]} is not a member of signing")
        scheme = value.get("scheme", "v1")
        if scheme not in SIGNING_SCHEMES:
            raise InvalidInput("signing.scheme must be v1 (HMAC-SHA256) or v1a (Ed25519)")
        text = value.get("secret")
        if text is None:
            return cls(cast(SigningScheme, scheme))
        if not isinstance(text, str):
            raise InvalidInput("signing.secret must be a whsec_… or whsk_… string")
        try:
            secret = parse_secret(text.strip())
        except ConfigurationError as exc:
            raise InvalidInput(f"signing.secret: {exc.message}") from None
        if scheme_of(secret) != scheme:
            prefix = "whsk_" if scheme == "v1a" else "whsec_"
            raise InvalidInput(f"signing.secret for scheme {scheme} starts with {prefix}")
        return cls(cast(SigningScheme, scheme), secret)

    def make(self) -> SigningSecret:
        """The key to sign with: the owner's, or a new one of the scheme."""
        if self.secret is not None:
            return self.secret
        return Ed25519Secret.generate() if self.scheme == "v1a" else HmacSecret.generate()

    def shown(self, secret: SigningSecret) -> str | None:
        """What to show once: a generated HMAC secret (the receiver needs it). An Ed25519
        private key is never shown (receivers need only its public key), nor a key the
        owner gave (they have it)."""
        if self.secret is None and isinstance(secret, HmacSecret):
            return secret.serialize()
        return None

    def __repr__(self) -> str:
        return f"SigningChoice({self.scheme!r}, own_key={self.secret is not None})"


@dataclass(frozen=True, slots=True)
class SecretSet:
    """A webhook stream's signing keys: one current, and rotated ones until ``retires_at``
    (Unix seconds). Kept as JSON, encrypted at rest (``streams.sealing``); an HMAC secret
    is shown to the tenant only when made, an Ed25519 key only as its public half."""

    keys: tuple[RotatingKey, ...] = ()

    @classmethod
    def of(cls, secret: SigningSecret) -> SecretSet:
        return cls((RotatingKey(secret),))

    @classmethod
    def from_json(cls, text: str) -> SecretSet:
        items = json.loads(text)
        return cls(tuple(RotatingKey(parse_secret(i["secret"]), i["retires_at"]) for i in items))

    def to_json(self) -> str:
        return json.dumps(
            [{"secret": k.secret.serialize(), "retires_at": k.retires_at} for k in self.keys]
        )

    @property
    def current(self) -> SigningSecret | None:
        return next((k.secret for k in self.keys if k.retires_at is None), None)

    def rotated(self, new: SigningSecret, *, now: int, overlap: int) -> SecretSet:
        """``new`` is current; today's keys keep signing for ``overlap`` more seconds."""
        return SecretSet(self.signer().rotate(new, now=now, overlap=overlap).keys)

    def signer(self) -> WebhookSigner:
        return WebhookSigner(self.keys)

    def signing(self) -> dict[str, Any] | None:
        """The current scheme and, for ``v1a``, the public key receivers pin."""
        current = self.current
        if current is None:
            return None
        if isinstance(current, Ed25519Secret):
            return {"scheme": "v1a", "public_key": current.public_key()}
        return {"scheme": "v1"}

    def summary(self, now: int) -> list[dict[str, Any]]:
        """What the API shows of the keys: never a secret, only each one's scheme, an
        Ed25519 key's public half, and when each one retires."""
        shown = []
        for k in self.keys:
            if not k.signs_at(now):
                continue
            item: dict[str, Any] = {
                "current": k.retires_at is None,
                "retires_at": k.retires_at,
                "scheme": scheme_of(k.secret),
            }
            if isinstance(k.secret, Ed25519Secret):
                item["public_key"] = k.secret.public_key()
            shown.append(item)
        return shown
