"""CEF lines read back field for field by a parser written from the CEF specification."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sealtrail
from sealtrail.events import Actor, Resource, Target
from sealtrail.streams.cef import Cef, escape_extension, escape_header, to_cef
from tests.naughty import NAUGHTY
from tests.streams.conftest import make_event

_KEY = re.compile(r"[A-Za-z0-9_]+")


def parse_cef(line: str) -> tuple[list[str], dict[str, str]]:
    """Split a CEF line per the spec: seven header fields, then ``key=value`` pairs."""
    assert "\n" not in line and "\r" not in line
    header: list[str] = []
    field, i = "", 0
    while len(header) < 7:
        ch = line[i]
        if ch == "\\":
            assert line[i + 1] in "\\|", f"bad header escape at {i}"
            field += line[i + 1]
            i += 2
        elif ch == "|":
            header.append(field)
            field, i = "", i + 1
        else:
            field += ch
            i += 1
    rest = line[i:]
    # Unescaped '=' signs end keys: the word before each one, after a space, is its key.
    marks, backslashes = [], 0
    for j, ch in enumerate(rest):
        if ch == "=" and backslashes % 2 == 0:
            start = rest.rfind(" ", 0, j) + 1
            assert _KEY.fullmatch(rest[start:j]), f"no key before '=' at {j}"
            marks.append((start, j))
        backslashes = backslashes + 1 if ch == "\\" else 0
    pairs: dict[str, str] = {}
    for n, (start, eq) in enumerate(marks):
        end = marks[n + 1][0] - 1 if n + 1 < len(marks) else len(rest)
        raw = rest[eq + 1 : end]
        value = re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), raw)
        assert re.sub(r"\\.", "", raw).count("\\") == 0, "a lone backslash"
        pairs[rest[start:eq]] = value
    return header, pairs


def test_header_and_known_fields() -> None:
    line = to_cef(
        make_event(
            "member.role_changed",
            12,
            ip="203.0.113.9",
            user_agent="Mozilla/5.0",
            request_id="req_1",
            account_id="acc_1",
            description="Ada changed the role of Bea",
            context={"new_role": "admin"},
        )
    )
    header, ext = parse_cef(line)
    assert header == [
        "CEF:0",
        "Sealtrail",
        "Sealtrail",
        sealtrail.__version__,
        "member.role_changed",
        "Ada changed the role of Bea",
        "1",
    ]
    assert ext == {
        "rt": "1772366401000",
        "end": "1772366400123",
        "externalId": "evt_000012",
        "cat": "members",
        "outcome": "success",
        "suid": "u_1",
        "suser": "ada@example.com",
        "spriv": "admin",
        "src": "203.0.113.9",
        "requestClientApplication": "Mozilla/5.0",
        "duid": "u_2",
        "duser": "bea@example.com",
        "cn1Label": "seq",
        "cn1": "12",
        "cs1Label": "tenant_id",
        "cs1": "acme",
        "cs2Label": "kind",
        "cs2": "update",
        "cs6Label": "context",
        "cs6": '{"new_role":"admin"}',
        "flexString1Label": "account_id",
        "flexString1": "acc_1",
        "flexString2Label": "request_id",
        "flexString2": "req_1",
    }


def test_ipv6_goes_to_c6a2_and_severity_follows_the_outcome() -> None:
    line = to_cef(make_event("auth.login", ip="2001:db8::1", outcome="failure"))
    header, ext = parse_cef(line)
    assert header[6] == "5"
    assert (ext["c6a2Label"], ext["c6a2"]) == ("Source IPv6 Address", "2001:db8::1")
    assert "src" not in ext


def test_escapes_per_the_spec() -> None:
    assert escape_header("a|b\\c\nd") == "a\\|b\\\\c d"
    assert escape_extension("a=b\\c\r\nd|e") == "a\\=b\\\\c\\r\\nd|e"


@pytest.mark.parametrize("text", NAUGHTY, ids=range(len(NAUGHTY)))
def test_naughty_values_come_back_exactly(text: str) -> None:
    event = make_event(
        "app.created",
        3,
        actor=Actor("user", text, text, None, text),
        target=Target("user", text, None, text),
        resource=Resource(text, text, text),
        description=text,
        account_id=text,
        request_id=text,
        user_agent=text,
        context={"note": text},
    )
    options = Cef(vendor=text, product="P|\\", version=text)
    header, ext = parse_cef(to_cef(event, options))
    in_header = re.sub(r"[\x00-\x1f\x7f]", " ", text)
    assert header[1:3] == [in_header, "P|\\"]
    assert header[5] == (in_header or "app.created")
    for key in ("suid", "suser", "spriv", "duid", "duser", "cs3", "cs4", "cs5"):
        assert ext[key] == text, key
    assert ext["flexString1"] == ext["flexString2"] == ext["requestClientApplication"] == text
    assert ext["cs6"].startswith('{"note":')


_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)


@given(header=_TEXT, first=_TEXT, second=_TEXT)
def test_any_text_round_trips(header: str, first: str, second: str) -> None:
    line = (
        f"CEF:0|V|P|1|id|{escape_header(header)}|1|"
        f"cs1={escape_extension(first)} cs2={escape_extension(second)}"
    )
    fields, ext = parse_cef(line)
    assert fields[5] == re.sub(r"[\x00-\x1f\x7f]", " ", header)
    assert ext == {"cs1": first, "cs2": second}
