"""Syslog over TCP and TLS into a real rsyslogd, read back from what rsyslog parsed."""

from __future__ import annotations

import json
import select
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealtrail.events import Actor, Event, Resource
from sealtrail.streams import (
    Cef,
    OcsfJson,
    SealtrailJson,
    SyslogFormat,
    SyslogTransport,
    batch_messages,
)
from tests.naughty import NAUGHTY
from tests.streams.conftest import SIGNER, make_batch, make_event
from tests.streams.docs_example import receiver_example
from tests.streams.rsyslog import Rsyslog, start_rsyslog
from tests.streams.tls import CertFiles, make_cert

pytestmark = pytest.mark.slow


@pytest.fixture
def cert(tmp_path: Path) -> CertFiles:
    return make_cert(tmp_path)


@pytest.fixture
def rsyslog_tcp(tmp_path: Path) -> Iterator[Rsyslog]:
    yield from start_rsyslog(tmp_path / "tcp")


@pytest.fixture
def rsyslog_tls(tmp_path: Path, cert: CertFiles) -> Iterator[Rsyslog]:
    yield from start_rsyslog(tmp_path / "tls", cert)


def _naughty_events() -> list[Event]:
    texts = [t for t in NAUGHTY if t][:30]
    return [
        make_event(
            "app.created",
            seq,
            actor=Actor("user", f"u_{seq}", name=text, email=text),
            resource=Resource("app", text, text),
            description=text,
            context={"note": text},
        )
        for seq, text in enumerate(texts)
    ]


def test_tcp_batch_of_naughty_events_arrives_whole_and_in_order(rsyslog_tcp: Rsyslog) -> None:
    events = _naughty_events()
    batch = make_batch(events)
    with SyslogTransport("127.0.0.1", rsyslog_tcp.port) as transport:
        result = transport.send(batch_messages(batch, SealtrailJson(), SyslogFormat("web-1")))
    assert result.delivered
    records = rsyslog_tcp.records(len(events) + 1)
    for event, record in zip(events, records, strict=False):
        assert record["msgid"] == "event"
        assert (record["hostname"], record["app"], record["procid"]) == ("web-1", "sealtrail", "-")
        assert record["timestamp"] == "2026-03-01T12:00:00.123456Z"
        assert record["sd"]["sealtrail@32473"] == {
            "tenant": "acme",
            "seq": str(event.seq),
            "id": event.id,
            "action": "app.created",
            "outcome": "success",
        }
        assert json.loads(record["msg"]) == event.to_dict()
    marker = records[-1]
    assert (marker["msgid"], marker["pri"], marker["severity"]) == ("batch", "110", "6")
    assert marker["sd"]["sealtrail-batch@32473"] == {
        "tenant": "acme",
        "first_seq": "0",
        "last_seq": str(len(events) - 1),
        "count": str(len(events)),
    }
    assert json.loads(marker["msg"])["checkpoint"] == batch.checkpoint


def test_tls_delivers_cef_and_ocsf(rsyslog_tls: Rsyslog, cert: CertFiles) -> None:
    events = [
        make_event("auth.login", 0, outcome="failure", ip="203.0.113.9"),
        make_event("member.invited", 1, description="Ada invited Bea | x=y \\ ünï"),
    ]
    with SyslogTransport(
        "127.0.0.1", rsyslog_tls.port, tls=cert.client_context(), server_hostname="localhost"
    ) as transport:
        assert transport.send(batch_messages(make_batch(events), Cef(), SyslogFormat())).delivered
        second = make_batch([make_event("app.created", 2)])
        assert transport.send(batch_messages(second, OcsfJson(), SyslogFormat())).delivered
    records = rsyslog_tls.records(5)
    assert (records[0]["severity"], records[0]["facility"]) == ("4", "13")
    assert records[0]["msg"].startswith("CEF:0|Sealtrail|Sealtrail|0.1.0|auth.login|")
    # Non-ASCII CEF carries the BOM; rsyslog keeps it at the start of msg.
    assert records[1]["msg"].startswith("\ufeffCEF:0|")
    assert "|Ada invited Bea \\| x=y \\\\ ünï|" in records[1]["msg"]
    assert records[2]["msgid"] == "batch"
    assert json.loads(records[3]["msg"])["class_uid"] == 6003
    # The receiver in docs/streams.md reads what rsyslog wrote.
    example = receiver_example(VERIFIER_KEY=SIGNER.vkey)
    receiver = example["Receiver"]("acme")
    fresh = receiver.syslog(records)
    assert [example["seq_of"](e) for e in fresh] == [0, 1, 2]
    assert [e[:6] for e in fresh[:2]] == ["CEF:0|", "CEF:0|"]
    assert receiver.next_seq == 3


def test_tls_refuses_an_untrusted_certificate_without_retrying(rsyslog_tls: Rsyslog) -> None:
    with SyslogTransport("127.0.0.1", rsyslog_tls.port, tls=ssl.create_default_context()) as t:
        result = t.send([b"<14>1 - - - - - - never"])
    assert not result.delivered and not result.retryable
    assert "certificate" in (result.error or "")


def test_a_closed_port_is_a_retryable_failure(tmp_path: Path) -> None:
    from tests.streams.rsyslog import _free_port

    with SyslogTransport("127.0.0.1", _free_port(), timeout=2) as transport:
        result = transport.send([b"<14>1 - - - - - - nobody"])
    assert not result.delivered and result.retryable


def test_a_connection_the_server_closed_is_replaced_before_the_next_batch() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(5)
        port = server.getsockname()[1]
        with SyslogTransport("127.0.0.1", port, timeout=5) as transport:
            assert transport.send([b"<14>1 - - - - - - first"]).delivered
            first, _ = server.accept()
            assert first.recv(100) == b"23 <14>1 - - - - - - first"
            first.close()  # the server goes away between batches
            closed_seen = time.monotonic() + 5
            while not transport._sock or not select.select([transport._sock], [], [], 0.05)[0]:
                assert time.monotonic() < closed_seen
            assert transport.send([b"<14>1 - - - - - - second"]).delivered
            second, _ = server.accept()
            second.settimeout(5)
            assert second.recv(100) == b"24 <14>1 - - - - - - second"
            second.close()
