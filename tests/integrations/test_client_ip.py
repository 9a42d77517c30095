"""TrustedProxies.client_ip: walk X-Forwarded-For from the right, skipping trusted hops."""

from __future__ import annotations

import pytest

from sealtrail.errors import ConfigurationError
from sealtrail.integrations import RequestFields, TrustedProxies
from sealtrail.recording import current_context

PROXIES = TrustedProxies(["10.0.0.0/8", "192.168.1.1", "2001:db8::/32"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.7", [], "203.0.113.7"),
        ("203.0.113.7", ["1.1.1.1"], "203.0.113.7"),  # untrusted peer: header ignored
        ("10.1.2.3", [], "10.1.2.3"),  # trusted peer without a header
        ("10.1.2.3", ["203.0.113.7"], "203.0.113.7"),
        ("10.1.2.3", ["6.6.6.6, 203.0.113.7, 10.9.9.9"], "203.0.113.7"),
        ("10.1.2.3", ["6.6.6.6", "203.0.113.7, 192.168.1.1"], "203.0.113.7"),  # two headers
        ("10.1.2.3", ["10.2.2.2, 10.3.3.3"], "10.2.2.2"),  # every hop trusted: the leftmost
        ("10.1.2.3", ["6.6.6.6, garbage, 10.9.9.9"], None),  # no guessing past a bad hop
        ("10.1.2.3", ["203.0.113.7:4711"], "203.0.113.7"),
        ("10.1.2.3", ["[2001:db9::1]:443"], "2001:db9::1"),
        ("2001:db8::5", ["2001:db9::1"], "2001:db9::1"),
        ("::ffff:10.1.2.3", ["203.0.113.7"], "203.0.113.7"),  # IPv4-mapped peer
        ("10.1.2.3", [" , 203.0.113.7 ,"], "203.0.113.7"),
        ("testclient", ["203.0.113.7"], None),  # a peer that is not an address
        (None, ["203.0.113.7"], None),
    ],
)
def test_client_ip(peer: str | None, forwarded: list[str], expected: str | None) -> None:
    assert PROXIES.client_ip(peer, forwarded) == expected


def test_no_trusted_proxies_means_the_peer() -> None:
    assert TrustedProxies().client_ip("10.1.2.3", ["203.0.113.7"]) == "10.1.2.3"


def test_bad_proxy_fails_loudly_by_name() -> None:
    with pytest.raises(ConfigurationError, match=r"'10\.0\.0\.300'"):
        TrustedProxies(["10.0.0.0/8", "10.0.0.300"])


@pytest.mark.parametrize(
    ("given", "kept"),
    [("abc-123", True), ("x" * 128, True), ("x" * 129, False), ("has space", False), ("", False)],
)
def test_request_id_is_kept_only_when_sane(given: str, kept: bool) -> None:
    fields = RequestFields()
    with fields.context(peer=None, forwarded_for=[], user_agent=None, request_id=given):
        request_id = current_context().request_id
    assert request_id is not None
    assert (request_id == given) is kept


def test_user_agent_is_cut_to_the_event_limit() -> None:
    with RequestFields().context(
        peer="203.0.113.7", forwarded_for=[], user_agent="u" * 5000, request_id=None
    ):
        scope = current_context()
    assert scope.user_agent == "u" * 1024
    assert scope.ip == "203.0.113.7"
