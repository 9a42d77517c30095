"""Where streams may connect: public addresses only, unless the operator allows more.

A stream's destination is a tenant's input, and the server connects to it: without a
guard a tenant could make Sealtrail POST to its own admin port, a database on the private
network, or a cloud metadata service (``169.254.169.254``). So a destination whose host
is, or resolves to, a **loopback, private (RFC 1918, ULA ``fc00::/7``), shared (CGNAT),
link-local, multicast, unspecified, reserved or documentation** address is refused:

- when the stream is created or its destination changed (``DestinationRefused``, a 422
  naming the field). A host name that does not resolve then is accepted — DNS may not be
  set up yet — and checked at delivery;
- at every delivery, after resolving the name again: the transport connects to one of
  the addresses it checked (never resolving twice), so a name that changes its answer
  after the check (DNS rebinding) still cannot reach a refused address.

IPv4-mapped, 6to4 and Teredo IPv6 addresses are judged by the IPv4 address inside them.
``stream_allow_private_destinations`` lifts the guard for every address but multicast
and unspecified ones; ``stream_allowed_networks`` allows chosen CIDRs (an internal SIEM).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import TypeAlias

from sealtrail.errors import DestinationRefused

__all__ = ["DestinationGuard", "IPAddress", "Resolver", "system_resolver"]

IPAddress: TypeAlias = IPv4Address | IPv6Address
Resolver: TypeAlias = Callable[[str, int], Sequence[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to for a TCP connection, in the resolver's order."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for *_, sockaddr in found:
        address = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 zone
        if address not in addresses:
            addresses.append(address)
    return addresses


def _embedded(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo), else itself."""
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address.teredo is not None:
            return address.teredo[1]
    return address


@dataclass(frozen=True, slots=True)
class DestinationGuard:
    """Judges addresses, and resolves host names to the addresses a stream may use."""

    allow_private: bool = False
    allowed: tuple[IPv4Network | IPv6Network, ...] = ()
    resolver: Resolver = system_resolver

    def refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` is refused (a few words), or None when it is allowed."""
        if any(address in network for network in self.allowed):
            return None
        inner = _embedded(address)
        if inner.is_unspecified or address.is_unspecified:
            return "an unspecified address"
        if inner.is_multicast or address.is_multicast:
            return "a multicast address"
        if self.allow_private or any(inner in network for network in self.allowed):
            return None
        for refused, what in (
            (inner.is_loopback or address.is_loopback, "a loopback address"),
            (inner.is_link_local or address.is_link_local, "a link-local address"),
            (inner.is_private or address.is_private, "a private or reserved address"),
            (not inner.is_global or not address.is_global, "not a public address"),
        ):
            if refused:
                return what
        return None

    def check_host(self, host: str, port: int, field: str) -> None:
        """At create or change time: refuse a host that is, or resolves to, a refused
        address. A name that does not resolve now is left to the delivery-time check."""
        literal = _literal(host)
        if literal is not None:
            self._judge(host, [literal], field)
            return
        try:
            addresses = [ip_address(a) for a in self.resolver(host, port)]
        except (OSError, UnicodeError, ValueError):
            return
        self._judge(host, addresses, field)

    def addresses(self, host: str, port: int, field: str = "destination") -> list[str]:
        """At delivery: the addresses to connect to, every one checked (``OSError`` when
        the name does not resolve, ``DestinationRefused`` when any answer is refused)."""
        literal = _literal(host)
        if literal is not None:
            found = [literal]
        else:
            try:
                found = [ip_address(a) for a in self.resolver(host, port)]
            except (UnicodeError, ValueError) as exc:
                raise OSError(f"cannot resolve {host!r}: {exc}") from None
        if not found:
            raise OSError(f"{host!r} resolves to no address")
        self._judge(host, found, field)
        return [str(a) for a in found]

    def _judge(self, host: str, addresses: Sequence[IPAddress], field: str) -> None:
        for address in addresses:
            why = self.refusal(address)
            if why is not None:
                shown = host if str(address) == host.strip("[]") else f"{host} ({address})"
                raise DestinationRefused(
                    field,
                    f"{shown} is {why}; streams deliver to public addresses only (an operator"
                    " may allow more: stream_allowed_networks)",
                )


def _literal(host: str) -> IPAddress | None:
    try:
        return ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
