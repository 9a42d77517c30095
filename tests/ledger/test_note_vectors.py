"""Signed notes against golang.org/x/mod/sumdb/note and the C2SP examples."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from sealtrail.errors import NoteError
from sealtrail.ledger.note import (
    Note,
    Signature,
    Signer,
    open_note,
    parse_note,
    parse_skey,
    parse_vkey,
    sign_note,
)

from .vectors import load_json

GO = load_json("signed-note-checkpoint/golang-mod-sumdb-note.json")
C2SP = load_json("signed-note-checkpoint/c2sp-signed-note-and-checkpoint-examples.json")
PETER = GO["keys"]["PeterNeumann"]
ENOCH = GO["keys"]["EnochRoot"]
TEXT: str = GO["sign_vectors"][0]["text"]
PETER_SIGNED: str = GO["sign_vectors"][0]["want_signed_note"]


def _existing(raw: list[dict[str, str]]) -> tuple[Signature, ...]:
    return tuple(Signature(s["name"], int(s.get("hash_hex", "0"), 16), s["base64"]) for s in raw)


def test_keys_round_trip() -> None:
    peter = parse_skey(PETER["skey"])
    assert peter.skey == PETER["skey"]
    assert peter.vkey == PETER["vkey"]
    assert parse_vkey(PETER["vkey"]).vkey == PETER["vkey"]
    assert f"{peter.key_id:08x}" == "c74f20a3"
    enoch = Signer("EnochRoot", bytes(32))  # GenerateKey(zeroReader)
    assert enoch.vkey == ENOCH["vkey"]


def test_sign_is_byte_identical_to_go() -> None:
    first, replaced, added = GO["sign_vectors"]
    peter = parse_skey(first["skey"])
    assert sign_note(first["text"], peter) == first["want_signed_note"]

    note = Note(replaced["text"], _existing(replaced["existing_sigs"]))
    assert sign_note(note, parse_skey(replaced["skey"])) == replaced["want_signed_note"]

    enoch = Signer("EnochRoot", bytes(32))
    assert sign_note(parse_note(PETER_SIGNED), enoch) == added["want_signed_note"]
    # re-signing with a key already present replaces its line; the others keep their order
    peter_line, enoch_line = added["want_signed_note"][len(TEXT) + 1 :].splitlines(keepends=True)
    resigned = sign_note(parse_note(added["want_signed_note"]), peter)
    assert resigned == f"{TEXT}\n{enoch_line}{peter_line}"


@pytest.mark.parametrize("case", GO["sign_errors"], ids=lambda c: c["desc"])
def test_sign_errors(case: dict[str, Any]) -> None:
    note = Note(case["text"], _existing(case.get("existing_sigs", [])))
    with pytest.raises(NoteError, match=re.escape(case["want_error"])):
        sign_note(note)  # Go's TestSign signs these with no new signer
    existing = case.get("existing_sigs", [])
    if not any(sig.get("hash_hex") == PETER["vkey"].split("+")[1] for sig in existing):
        with pytest.raises(NoteError, match=re.escape(case["want_error"])):
            sign_note(note, parse_skey(PETER["skey"]))


def _message(case: dict[str, Any]) -> str:
    if "msg" in case:
        msg: str = case["msg"]
        return msg
    assert case["msg_construction"] == "text + '\\n' + peterSig repeated 101 times"
    peter_line = PETER_SIGNED[len(TEXT) + 1 :]
    return TEXT + "\n" + peter_line * 101


@pytest.mark.parametrize("case", GO["open_vectors"], ids=lambda c: c["desc"])
def test_open(case: dict[str, Any]) -> None:
    verifiers = [parse_vkey(v) for v in case["verifiers"]]
    msg = _message(case)
    if "want_error" in case:
        with pytest.raises(NoteError, match=re.escape(case["want_error"])):
            open_note(msg, verifiers)
        return
    note = open_note(msg, verifiers)
    want = case["want"]
    assert note.text == want.get("text", TEXT)
    if "verified" in want:
        assert [s.name for s in note.signatures] == want["verified"]
    if "unverified" in want:
        assert [s.name for s in note.unverified] == want["unverified"]
    if "verified_count" in want:
        assert len(note.signatures) == want["verified_count"]
        assert len(note.unverified) == want["unverified_count"]


def test_unverifiable_note_still_parses() -> None:
    msg = GO["open_vectors"][2]["msg"]
    with pytest.raises(NoteError, match="note has no verifiable signatures"):
        open_note(msg, [])
    note = parse_note(msg)
    assert [s.name for s in note.unverified] == ["PeterNeumann", "EnochRoot"]
    assert note.signatures == ()


def test_exactly_100_signatures_are_accepted() -> None:
    peter_line = PETER_SIGNED[len(TEXT) + 1 :]
    note = open_note(TEXT + "\n" + peter_line * 100, [parse_vkey(PETER["vkey"])])
    assert len(note.signatures) == 1


def _malformed_messages() -> list[str | bytes]:
    out: list[str | bytes] = []
    for msg in GO["open_malformed"]["msgs"]:
        if isinstance(msg, str):
            out.append(msg)
        else:
            out.append(bytes.fromhex(msg["prefix_hex"]) + msg["rest"].encode())
    return out


@pytest.mark.parametrize("msg", _malformed_messages())
def test_malformed_notes_are_refused(msg: str | bytes) -> None:
    verifiers = [parse_vkey(v) for v in GO["open_malformed"]["verifiers"]]
    with pytest.raises(NoteError, match=re.escape(GO["open_malformed"]["want_error"])):
        open_note(msg, verifiers)
    with pytest.raises(NoteError, match="malformed note"):
        parse_note(msg)


@pytest.mark.parametrize("vkey", GO["vkey_rules"]["invalid_examples"])
def test_invalid_vkeys(vkey: str) -> None:
    with pytest.raises(NoteError):
        parse_vkey(vkey)


def _mangled(key: str) -> set[str]:
    """Every proper substring and every single-byte increment of ``key``."""
    raw = key.encode()
    out = {raw[i:j].decode() for i in range(len(raw)) for j in range(i, len(raw) + 1)}
    out.discard(key)
    for i in range(len(raw)):
        out.add((raw[:i] + bytes([raw[i] + 1]) + raw[i + 1 :]).decode())
    return out


def test_vkey_mangling_rule() -> None:
    parse_vkey(GO["vkey_rules"]["valid"])
    for bad in _mangled(GO["vkey_rules"]["valid"]):
        with pytest.raises(NoteError):
            parse_vkey(bad)


def test_skey_mangling_rule() -> None:
    for bad in _mangled(PETER["skey"]):
        with pytest.raises(NoteError):
            parse_skey(bad)


def test_c2sp_verifiable_example() -> None:
    example = C2SP["verifiable_example"]
    note = open_note(example["signed_note"], [parse_vkey(example["vkey"])])
    assert note.text == example["want"]["text"]
    assert [s.name for s in note.signatures] == example["want"]["verified"]


@pytest.mark.parametrize("example", C2SP["parse_only_examples"], ids=lambda e: e["desc"][:30])
def test_c2sp_parse_only_examples(example: dict[str, Any]) -> None:
    note = parse_note(example["signed_note"])
    assert len(note.unverified) == 1
    if "want_text" in example:
        assert note.text == example["want_text"]
    # the key id is the first 4 bytes of the decoded signature
    encoded = example["signed_note"].rsplit(" ", 1)[1].strip()
    assert note.unverified[0].key_id == int.from_bytes(base64.b64decode(encoded)[:4], "big")
