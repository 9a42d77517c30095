"""The destination guard: which addresses a stream may reach, and that transports connect
only to an address the guard resolved and checked (DNS rebinding cannot slip past)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Sequence
from ipaddress import ip_address, ip_network

import pytest

from sealtrail.errors import DestinationRefused
from sealtrail.streams import JSON_MEDIA_TYPE, HmacSecret, SyslogTransport, WebhookSigner
from sealtrail.streams.guard import DestinationGuard
from sealtrail.streams.webhook import WebhookTransport
from tests.streams.webhook_receiver import Receiver

REFUSED = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "::1": "loopback",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "172.31.255.254": "private",
    "192.168.1.1": "private",
    "fc00::1": "private",
    "fd12:3456::1": "private",
    "169.254.169.254": "link-local",  # cloud metadata
    "fe80::1": "link-local",
    "224.0.0.1": "multicast",
    "ff02::1": "multicast",
    "0.0.0.0": "unspecified",
    "::": "unspecified",
    "100.64.0.1": "not a public address",  # shared (CGNAT)
    "192.0.2.10": "reserved",  # documentation
    "240.0.0.1": "reserved",
    "::ffff:127.0.0.1": "loopback",  # IPv4-mapped
    "::ffff:169.254.169.254": "link-local",
    "2002:a00:1::1": "private",  # 6to4 of 10.0.0.1
}
PUBLIC = ("93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e")


@pytest.mark.parametrize(("address", "why"), sorted(REFUSED.items()))
def test_non_public_addresses_are_refused(address: str, why: str) -> None:
    refusal = DestinationGuard().refusal(ip_address(address))
    assert refusal is not None and why in refusal
    with pytest.raises(DestinationRefused) as caught:
        DestinationGuard().check_host(address, 443, "destination.url")
    assert caught.value.details[0].field == "destination.url"


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert DestinationGuard().refusal(ip_address(address)) is None


def test_the_operator_may_allow_private_addresses_or_chosen_networks() -> None:
    allow = DestinationGuard(allow_private=True)
    for address in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "fd00::1"):
        assert allow.refusal(ip_address(address)) is None
    for address in ("224.0.0.1", "0.0.0.0"):  # never a destination
        assert allow.refusal(ip_address(address)) is not None
    siem = DestinationGuard(allowed=(ip_network("10.20.0.0/16"),))
    assert siem.refusal(ip_address("10.20.3.4")) is None
    assert siem.refusal(ip_address("::ffff:10.20.3.4")) is None
    assert siem.refusal(ip_address("10.21.0.1")) is not None
    assert siem.refusal(ip_address("127.0.0.1")) is not None


def _resolving(answers: dict[str, Sequence[str]]) -> DestinationGuard:
    def resolver(host: str, port: int) -> Sequence[str]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers[host]

    return DestinationGuard(resolver=resolver)


def test_a_name_is_judged_by_every_address_it_resolves_to() -> None:
    guard = _resolving({"ok.test": ["1.1.1.1"], "mixed.test": ["1.1.1.1", "10.0.0.1"]})
    guard.check_host("ok.test", 443, "destination.url")
    with pytest.raises(DestinationRefused, match=r"mixed\.test \(10\.0\.0\.1\) is a private"):
        guard.check_host("mixed.test", 443, "destination.url")
    # A name that does not resolve yet is accepted when configured, refused to connect.
    guard.check_host("later.test", 443, "destination.url")
    with pytest.raises(socket.gaierror, match="not known"):
        guard.addresses("later.test", 443)
    # The system resolver: localhost is loopback.
    with pytest.raises(DestinationRefused, match="loopback"):
        DestinationGuard().check_host("localhost", 514, "destination.host")


def _port(url: str) -> int:
    return int(url.split(":")[2].split("/")[0])


def _webhook(receiver: Receiver, guard: DestinationGuard) -> WebhookTransport:
    return WebhookTransport(
        receiver.url,
        WebhookSigner.of(HmacSecret.generate()),
        verify=receiver.cert.client_context(),
        guard=guard,
    )


def test_a_webhook_connects_to_the_address_the_guard_checked(receiver: Receiver) -> None:
    """The receiver listens on 127.0.0.1 only: when the guard resolves localhost to
    127.0.0.2, nothing is delivered (the system's 127.0.0.1 is never used); resolved to
    127.0.0.1 it is, with the URL's host for Host, SNI and the certificate."""
    loopback = (ip_network("127.0.0.0/8"),)
    answers = {"localhost": ["127.0.0.2"]}
    guard = DestinationGuard(allowed=loopback, resolver=lambda host, port: answers[host])
    with _webhook(receiver, guard) as transport:
        missed = transport.send(b"{}", msg_id="m1", content_type=JSON_MEDIA_TYPE)
        assert not missed.delivered and missed.retryable and receiver.received == []
        answers["localhost"] = ["127.0.0.2", "127.0.0.1"]  # the next address is tried
        sent = transport.send(b"{}", msg_id="m2", content_type=JSON_MEDIA_TYPE)
    assert sent.delivered, sent.error
    (got,) = receiver.received
    assert got.headers["host"] == f"localhost:{_port(receiver.url)}"


def test_a_name_rebound_to_a_private_address_is_refused_at_delivery(receiver: Receiver) -> None:
    answers = {"localhost": ["1.1.1.1"]}
    guard = DestinationGuard(resolver=lambda host, port: answers[host])
    guard.check_host("localhost", 443, "destination.url")  # what creation saw: public
    answers["localhost"] = ["127.0.0.1"]  # …and what the name says at delivery
    with _webhook(receiver, guard) as transport:
        result = transport.send(b"{}", msg_id="m1", content_type=JSON_MEDIA_TYPE)
    assert not result.delivered and not result.retryable
    assert result.error is not None and "loopback" in result.error
    assert receiver.received == []


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    server = socket.create_server(("127.0.0.1", 0))
    got: list[bytes] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(65536):
                    got.append(data)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], got
    server.close()
    thread.join(5)


def test_syslog_connects_only_to_checked_addresses(listener: tuple[int, list[bytes]]) -> None:
    port, _ = listener
    with SyslogTransport("127.0.0.1", port, guard=DestinationGuard()) as refused:
        result = refused.send([b"<14>1 - - - - - - hello"])
    assert not result.delivered and not result.retryable
    assert result.error is not None and "loopback" in result.error
    answers = {"siem.test": ["127.0.0.1"]}
    allowed = DestinationGuard(
        allowed=(ip_network("127.0.0.1/32"),), resolver=lambda host, port: answers[host]
    )
    with SyslogTransport("siem.test", port, guard=allowed) as transport:  # not in any DNS
        assert transport.send([b"<14>1 - - - - - - hello"]).delivered
