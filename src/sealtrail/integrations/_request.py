"""From a request's raw parts to ``ip``, ``user_agent`` and ``request_id``: no framework here.

The client address is the peer's, unless the peer is a trusted proxy: then
``X-Forwarded-For`` is walked from the right (the entry the nearest proxy
added) and the first hop that is not itself a trusted proxy is the client.
Entries to the left of it were written by the client and are ignored, so a
spoofed header changes nothing. A hop that is not an IP address ends the walk
with no address rather than a guess.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Final

import uuid_utils

from sealtrail.errors import ConfigurationError
from sealtrail.limits import MAX_USER_AGENT
from sealtrail.recording import RecordingContext, context

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_REQUEST_ID_HEADER: Final = "X-Request-ID"
_REQUEST_ID: Final = re.compile(r"^[\x21-\x7e]{1,128}$")  # visible ASCII, no spaces


def _address(text: str) -> IPAddress | None:
    """An address as a proxy writes it: bare, ``[v6]:port`` or ``v4:port``; None if not one."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """The proxies (addresses or CIDR networks) whose ``X-Forwarded-For`` is believed."""

    def __init__(self, proxies: Iterable[str] = ()) -> None:
        networks: list[IPNetwork] = []
        for proxy in proxies:
            try:
                networks.append(ipaddress.ip_network(proxy.strip(), strict=False))
            except ValueError:
                raise ConfigurationError(
                    f"trusted_proxies: {proxy!r} is not an IP address or CIDR network"
                ) from None
        self.networks = tuple(networks)

    def __contains__(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)

    def client_ip(self, peer: str | None, forwarded_for: Iterable[str] = ()) -> str | None:
        """The client's address, from the peer and the ``X-Forwarded-For`` header values."""
        address = _address(peer) if peer else None
        if address is None:
            return None
        if address in self:
            hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
            for hop in reversed(hops):
                address = _address(hop)
                if address is None:
                    return None
                if address not in self:
                    break
        return str(address)


class RequestFields:
    """What every middleware does with a request: put its fields into ``sealtrail.context``."""

    def __init__(
        self,
        *,
        trusted_proxies: Iterable[str] = (),
        request_id_header: str = DEFAULT_REQUEST_ID_HEADER,
    ) -> None:
        if not request_id_header or not request_id_header.isascii():
            raise ConfigurationError(
                f"request_id_header: {request_id_header!r} is not a header name"
            )
        self.proxies = TrustedProxies(trusted_proxies)
        self.request_id_header = request_id_header

    def context(
        self,
        *,
        peer: str | None,
        forwarded_for: Iterable[str],
        user_agent: str | None,
        request_id: str | None,
    ) -> AbstractContextManager[RecordingContext]:
        """``sealtrail.context(ip=..., user_agent=..., request_id=...)`` for this request.

        An incoming request id is kept when it is 1-128 visible ASCII characters;
        otherwise (or when absent) a fresh UUIDv7 is used.
        """
        if request_id is None or not _REQUEST_ID.match(request_id):
            request_id = str(uuid_utils.uuid7())
        return context(
            ip=self.proxies.client_ip(peer, forwarded_for),
            user_agent=user_agent[:MAX_USER_AGENT] if user_agent else None,
            request_id=request_id,
        )


def header_values(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> Iterator[str]:
    """Every value of header ``name`` (lower-case bytes) in an ASGI header list."""
    for key, value in headers:
        if key == name:
            yield value.decode("latin-1")
