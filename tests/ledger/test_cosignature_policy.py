"""Witness cosignatures (tlog-cosignature v1, Ed25519) and tlog-policy files."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sealtrail.errors import NoteError
from sealtrail.ledger.checkpoint import Checkpoint
from sealtrail.ledger.cosignature import (
    Cosigner,
    cosignatures,
    parse_witness_skey,
    parse_witness_vkey,
    signed_message,
)
from sealtrail.ledger.merkle import EMPTY_ROOT
from sealtrail.ledger.note import Signer, sign_note
from sealtrail.ledger.policy import Policy, PolicyError

LOG = Signer("sealtrail", bytes(range(32)))
BODY = Checkpoint("sealtrail/acme", 7, bytes(range(32))).to_text()
NOTE = sign_note(BODY, LOG)


def witness(n: int) -> Cosigner:
    return Cosigner(f"witness.example/w{n}", bytes([n]) * 32)


def test_key_id_vkey_and_skey_follow_the_spec() -> None:
    w = witness(1)
    public = base64.b64decode(w.vkey.split("+", 2)[2])
    assert public[0] == 0x04
    expected = hashlib.sha256(b"witness.example/w1\n" + public).digest()[:4]
    assert w.vkey.split("+")[1] == expected.hex()
    assert parse_witness_vkey(w.vkey) == w.verifier
    assert parse_witness_skey(w.skey).vkey == w.vkey
    with pytest.raises(NoteError, match="not 0x04"):
        parse_witness_vkey(LOG.vkey)
    assert "PRIVATE" not in repr(w)


def test_a_cosignature_signs_header_time_and_body() -> None:
    w = witness(1)
    line = w.cosign(BODY, timestamp=1_700_000_000)
    raw = base64.b64decode(line.base64)
    assert raw[:4] == w.verifier.key_id.to_bytes(4, "big")
    assert int.from_bytes(raw[4:12], "big") == 1_700_000_000
    assert signed_message(BODY, 1_700_000_000) == (
        b"cosignature/v1\ntime 1700000000\n" + BODY.encode()
    )
    public = Ed25519PublicKey.from_public_bytes(w.verifier.public_key)
    public.verify(raw[12:], signed_message(BODY, 1_700_000_000))
    found = cosignatures(NOTE + line.line, [w.verifier])
    assert dict(found.timestamps) == {w.verifier: 1_700_000_000}


def test_unknown_cosigners_are_ignored_and_bad_ones_refused() -> None:
    one, two = witness(1), witness(2)
    note = NOTE + two.cosign(BODY).line
    assert cosignatures(note, [one.verifier]).names == frozenset()
    other_body = Checkpoint("sealtrail/acme", 8, EMPTY_ROOT).to_text()
    copied = NOTE + one.cosign(other_body).line  # a cosignature lifted from another checkpoint
    with pytest.raises(NoteError, match="invalid cosignature"):
        cosignatures(copied, [one.verifier])


def test_policy_files_with_groups_and_quorum() -> None:
    w = [witness(n) for n in range(1, 7)]
    text = f"""
    # the example of c2sp.org/tlog-policy
    log {LOG.vkey}
    witness X1 {w[0].vkey}
    witness X2 {w[1].vkey} https://x2.example
    witness X3\t{w[2].vkey}
    group X-witnesses 2 X1 X2 X3
    witness Y1 {w[3].vkey}
    witness Y2 {w[4].vkey}
    witness Y3 {w[5].vkey}
    group Y-witnesses any Y1 Y2 Y3
    group X-and-Y all X-witnesses Y-witnesses
    quorum X-and-Y
    """
    policy = Policy.parse(text)
    assert policy.logs == (LOG.verifier,)
    assert policy.witnesses["X2"].url == "https://x2.example"
    v = [c.verifier for c in w]
    assert policy.satisfied([v[0], v[1], v[5]])
    assert not policy.satisfied([v[0], v[3], v[4], v[5]])
    assert not policy.satisfied([v[0], v[1], v[2]])
    assert policy.describe() == (
        "2 of (2 of (witness.example/w1, witness.example/w2, witness.example/w3), "
        "1 of (witness.example/w4, witness.example/w5, witness.example/w6))"
    )
    assert Policy.parse("quorum none\n").satisfied([])


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("log x\nquorum none", "malformed"),
        ("witness a {w1}\nwitness a {w2}\nquorum a", "already defined"),
        ("witness a {w1}\nwitness b {w1}\nquorum a", "duplicate witness key"),
        ("witness a {w1}\ngroup g 2 a\nquorum g", "threshold"),
        ("witness a {w1}\ngroup g any a b\nquorum g", "not defined above"),
        ("witness a {w1}\ngroup g any a a\nquorum g", "listed twice"),
        ("quorum a\nwitness a {w1}", "not defined above"),
        ("witness a {w1}", "no quorum"),
        ("quorum none\nquorum none", "second quorum"),
        ("witness none {w1}\nquorum none", "reserved"),
        ("frobnicate\nquorum none", "cannot read"),
    ],
)
def test_bad_policies_are_refused_by_line(text: str, why: str) -> None:
    filled = text.format(w1=witness(1).vkey, w2=witness(2).vkey)
    with pytest.raises(PolicyError, match=why):
        Policy.parse(filled)


def test_witness_flags_make_a_k_of_n_policy() -> None:
    v = [witness(n) for n in range(1, 4)]
    policy = Policy.of_witnesses([c.vkey for c in v], 2)
    assert policy.satisfied([v[0].verifier, v[2].verifier])
    assert not policy.satisfied([v[1].verifier])
    assert not Policy.of_witnesses([c.vkey for c in v]).satisfied([v[0].verifier, v[1].verifier])
    with pytest.raises(PolicyError):
        Policy.of_witnesses([c.vkey for c in v], 4)
    with pytest.raises(PolicyError):
        Policy.of_witnesses([v[0].vkey, v[0].vkey])
