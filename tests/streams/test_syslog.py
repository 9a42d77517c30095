"""RFC 5424 messages and RFC 5425 framing, byte for byte."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealtrail.errors import ConfigurationError
from sealtrail.events import Actor
from sealtrail.streams import Cef, SealtrailJson, SyslogFormat, batch_messages, event_message, frame
from sealtrail.streams.syslog import BOM, sd_escape
from tests.streams.conftest import make_batch, make_event

_HEADER = re.compile(rb"<(\d+)>1 (\S+) (\S+) (\S+) (\S+) (\S+) ")


def test_an_event_message_in_full() -> None:
    message = event_message(make_event("app.deleted", 5), SealtrailJson(), SyslogFormat("web-1"))
    head, rest = message.split(b"] ", 1)
    assert head == (
        b"<109>1 2026-03-01T12:00:00.123456Z web-1 sealtrail - event [sealtrail@32473"
        b' tenant="acme" seq="5" id="evt_000005" action="app.deleted" outcome="success"'
    )
    assert json.loads(rest) == make_event("app.deleted", 5).to_dict()


@pytest.mark.parametrize(
    ("outcome", "action", "pri"),
    [
        ("success", "app.created", 13 * 8 + 6),
        ("success", "app.deleted", 13 * 8 + 5),
        ("failure", "app.created", 13 * 8 + 5),
        ("failure", "auth.login", 13 * 8 + 4),
    ],
)
def test_pri_is_facility_and_severity(outcome: str, action: str, pri: int) -> None:
    message = event_message(make_event(action, outcome=outcome), Cef(), SyslogFormat())
    match = _HEADER.match(message)
    assert match is not None and int(match.group(1)) == pri
    local0 = event_message(make_event(action, outcome=outcome), Cef(), SyslogFormat(facility=16))
    assert local0.startswith(b"<%d>" % (pri - 13 * 8 + 16 * 8))


def test_structured_data_escapes_quote_backslash_and_bracket() -> None:
    assert sd_escape('a"b\\c]d') == 'a\\"b\\\\c\\]d'
    message = event_message(make_event(id='x"]\\'), SealtrailJson(), SyslogFormat())
    assert b'id="x\\"\\]\\\\"' in message


def test_json_is_ascii_without_bom_and_text_gets_the_bom() -> None:
    event = make_event(description="Ünïcode ☃ \u2028")
    as_json = event_message(event, SealtrailJson(), SyslogFormat())
    assert as_json.isascii() and BOM not in as_json
    assert json.loads(as_json.split(b"] ", 1)[1])["description"] == "Ünïcode ☃ \u2028"
    as_cef = event_message(event, Cef(), SyslogFormat())
    assert as_cef.split(b"] ", 1)[1].startswith(BOM + b"CEF:0|")
    ascii_cef = event_message(make_event(), Cef(), SyslogFormat())
    assert BOM not in ascii_cef
    assert BOM in event_message(make_event(), Cef(), SyslogFormat(bom="always"))
    assert BOM not in event_message(event, Cef(), SyslogFormat(bom="never"))


@pytest.mark.parametrize("max_size", [480, 1000, 8192])
def test_long_messages_are_cut_to_max_size_on_a_character_boundary(max_size: int) -> None:
    event = make_event(actor=Actor("user", "u_1", name="☃" * 5000))
    message = event_message(event, Cef(), SyslogFormat(max_size=max_size))
    assert len(message) <= max_size
    assert len(message) > max_size - 3  # cut at most a partial three-byte character
    message.decode("utf-8")  # still valid UTF-8
    whole = event_message(event, Cef(), SyslogFormat(max_size=10**6))
    msg_octets = len(whole.split(b"] ", 1)[1])
    assert b' truncated="%d"]' % msg_octets in message


def test_batch_message_follows_the_events_and_carries_the_checkpoint() -> None:
    events = [make_event("app.created", 3), make_event("app.updated", 4)]
    batch = make_batch(events, first=2, last=4)
    messages = batch_messages(batch, SealtrailJson(), SyslogFormat())
    assert len(messages) == 3
    last = messages[-1]
    assert last.startswith(b'<110>1 - - sealtrail - batch [sealtrail-batch@32473 tenant="acme"')
    assert b'first_seq="2" last_seq="4" count="2"]' in last
    header = json.loads(last.split(b"] ", 1)[1])
    assert header["checkpoint"] == batch.checkpoint
    assert (header["first_seq"], header["last_seq"]) == (2, 4)


def test_octet_counting_frames() -> None:
    assert frame(b"<110>1 - - - - - -") == b"18 <110>1 - - - - - -"
    assert frame("é".encode()) == b"2 \xc3\xa9"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hostname": "has space"},
        {"hostname": "x" * 256},
        {"app_name": "é"},
        {"facility": 24},
        {"max_size": 479},
        {"enterprise_number": 0},
    ],
)
def test_format_settings_are_checked(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        SyslogFormat(**kwargs)  # type: ignore[arg-type]


def _sd_unescape(value: str) -> str:
    """RFC 5424 §6.3.3: a backslash before '"', '\\' or ']' is dropped; others are kept."""
    return re.sub(r'\\(["\\\]])', r"\1", value)


@given(st.text(st.characters(codec="utf-8"), max_size=60))
def test_any_sd_value_round_trips_and_never_closes_early(value: str) -> None:
    escaped = sd_escape(value)
    assert _sd_unescape(escaped) == value
    # No unescaped '"' or ']' is left to end the value or the element early.
    assert not re.search(r'(?<!\\)(\\\\)*["\]]', escaped)
