"""Checkpoint bodies and signed checkpoints against transparency-dev/formats,
golang.org/x/mod/sumdb/tlog and the C2SP example."""

from __future__ import annotations

from typing import Any

import pytest

from sealtrail.errors import NoteError
from sealtrail.ledger.checkpoint import Checkpoint, open_checkpoint
from sealtrail.ledger.merkle import hash_leaf
from sealtrail.ledger.note import open_note, parse_note, parse_skey, parse_vkey, sign_note

from .vectors import load_json

FORMATS = load_json("signed-note-checkpoint/transparency-dev-formats-checkpoint.json")
GO = load_json("signed-note-checkpoint/golang-mod-sumdb-note.json")
C2SP = load_json("signed-note-checkpoint/c2sp-signed-note-and-checkpoint-examples.json")

# The formats vectors use toy "hashes" such as "bananas"; they test line structure,
# so they are parsed with any root length (our default demands 32 bytes).
ANY_LENGTH = None


@pytest.mark.parametrize("case", FORMATS["checkpoint_marshal"], ids=lambda c: c["origin"])
def test_marshal(case: dict[str, Any]) -> None:
    checkpoint = Checkpoint(case["origin"], case["size"], case["hash_ascii"].encode())
    assert checkpoint.to_text() == case["want"]


@pytest.mark.parametrize("case", FORMATS["checkpoint_unmarshal"], ids=lambda c: c["desc"])
def test_unmarshal(case: dict[str, Any]) -> None:
    if case.get("want_error"):
        with pytest.raises(NoteError):
            Checkpoint.from_text(case["m"], hash_size=ANY_LENGTH)
        return
    if "\n\n" in case["m"]:
        # transparency-dev accepts empty extension lines; c2sp tlog-checkpoint says
        # they MUST be non-empty, and we follow the spec.
        with pytest.raises(NoteError, match="must not be empty"):
            Checkpoint.from_text(case["m"], hash_size=ANY_LENGTH)
        return
    checkpoint = Checkpoint.from_text(case["m"], hash_size=ANY_LENGTH)
    want = case["want"]
    assert (checkpoint.origin, checkpoint.size) == (want["origin"], want["size"])
    assert checkpoint.root_hash == want["hash_ascii"].encode()
    assert "".join(f"{line}\n" for line in checkpoint.extensions) == case["want_rest"]
    assert checkpoint.to_text() == case["m"]


def test_extension_example() -> None:
    example = FORMATS["extension_example"]
    checkpoint = Checkpoint.from_text(example["raw"], hash_size=ANY_LENGTH)
    assert checkpoint.origin == example["want"]["origin"]
    assert checkpoint.size == example["want"]["size"]
    assert checkpoint.root_hash == example["want"]["hash_ascii"].encode()
    assert checkpoint.extensions == ("6086d1a9", "Waxing gibbous")
    assert checkpoint.to_text() == example["raw"]


def test_real_sum_golang_org_checkpoint() -> None:
    real = FORMATS["real_world_signed_checkpoint"]
    log = parse_vkey(real["log_vkey"])  # its base64 holds '+' characters
    assert "+" in real["log_vkey"].split("+", 2)[2]
    checkpoint, note = open_checkpoint(real["signed_note"], origin=real["origin"], log_verifier=log)
    assert checkpoint.size == real["want"]["size"]
    assert checkpoint.origin == real["want"]["origin"]
    assert [s.name for s in note.signatures] == ["sum.golang.org"]
    with pytest.raises(NoteError, match="origin"):
        open_checkpoint(
            real["signed_note"],
            origin=real["wrong_origin_case"]["expected_origin"],
            log_verifier=log,
        )


def test_real_checkpoint_with_cosignatures() -> None:
    real = FORMATS["real_world_signed_checkpoint"]
    extra = "".join(f"{line}\n" for line in real["extra_signature_lines"])
    others = [parse_vkey(v) for v in real["extra_vkeys"]]
    _, note = open_checkpoint(
        real["signed_note"] + extra,
        origin=real["origin"],
        log_verifier=parse_vkey(real["log_vkey"]),
        other_verifiers=others,
    )
    assert [s.name for s in note.signatures] == ["sum.golang.org", "monkeys", "bananas", "witness"]
    assert [s.name for s in note.unverified] == ["random1", "random2"]


POLICY = FORMATS["parse_checkpoint_policy_cases"]
POLICY_KEYS = {**POLICY["keys"], "uns": POLICY["keys"]["unknown"]}


@pytest.mark.parametrize("case", POLICY["cases"], ids=lambda c: c["desc"])
def test_checkpoint_policy(case: dict[str, Any]) -> None:
    text = case.get("body_override", POLICY["checkpoint_text"])
    signed = sign_note(text, *(parse_skey(POLICY_KEYS[name]["skey"]) for name in case["signers"]))
    log = parse_vkey(POLICY_KEYS["log"]["vkey"])
    others = [parse_vkey(POLICY_KEYS[k]["vkey"]) for k in ("known1", "known2")]
    kwargs: dict[str, Any] = {"log_verifier": log, "other_verifiers": others, "hash_size": None}
    if case["want_error"]:
        with pytest.raises(NoteError):
            open_checkpoint(signed, origin=case["origin"], **kwargs)
    else:
        _, note = open_checkpoint(signed, origin=case["origin"], **kwargs)
        assert len(note.signatures) == case["want_sigs"]
    # want_sigs counts the verified signatures even when the checkpoint is refused
    try:
        verified = len(open_note(signed, [log, *others]).signatures)
    except NoteError:
        verified = 0
    assert verified == case["want_sigs"]


# -- the legacy go.sum tree note: a checkpoint with origin "go.sum database tree" ---

TREE = GO["tlog_tree_note"]
GO_ORIGIN = "go.sum database tree"


def test_tree_note_golden() -> None:
    golden = TREE["golden"]
    checkpoint = Checkpoint.from_text(golden["text"])
    assert checkpoint.origin == GO_ORIGIN
    assert checkpoint.size == golden["N"]
    assert checkpoint.root_hash == hash_leaf(golden["hash_input_ascii"].encode())
    assert Checkpoint(GO_ORIGIN, golden["N"], checkpoint.root_hash).to_text() == golden["text"]


@pytest.mark.parametrize("text", TREE["bad_trees"])
def test_tree_note_bad_trees(text: str) -> None:
    try:
        checkpoint = Checkpoint.from_text(text)
    except NoteError:
        return
    assert checkpoint.origin != GO_ORIGIN  # the first one parses, but is not go.sum's


def test_tree_note_trailing_junk() -> None:
    golden = TREE["golden"]["text"]
    for junk in ("JOE\n", "JOE\n" * 1000):
        checkpoint = Checkpoint.from_text(golden + junk)
        assert checkpoint.size == TREE["golden"]["N"]
        assert set(checkpoint.extensions) == {"JOE"}
    # sumdb's lenient ParseTree also takes a last line without its newline; a
    # signed-note text always ends in one, so we refuse it.
    with pytest.raises(NoteError, match="newline"):
        Checkpoint.from_text(golden + "JOE")


def test_c2sp_checkpoint_example() -> None:
    example = C2SP["parse_only_examples"][1]
    checkpoint = Checkpoint.from_text(parse_note(example["signed_note"]).text)
    want = example["want_checkpoint"]
    assert checkpoint.origin == want["origin"]
    assert checkpoint.size == want["tree_size"]
    assert checkpoint.to_text().split("\n")[2] == want["root_hash_b64"]
    assert list(checkpoint.extensions) == want["extension_lines"]
