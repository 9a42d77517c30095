"""Proofs as an outside auditor checks them, sharing no code with Sealtrail.

Leaf bytes are rebuilt from ``GET /v1/events/{id}?include=salts`` with the
``rfc8785`` package per SPEC §3, inclusion and consistency proofs are checked
with RFC 9162's verification algorithms written out here, and checkpoints are
opened with ``cryptography``'s Ed25519 and the C2SP vkey.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .conftest import Api, event

PERSONAL = {"name", "email"}


def b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def commit(salt: bytes, value: Any) -> dict[str, str]:
    data = rfc8785.dumps(value) if isinstance(value, dict) else value.encode()
    return {"$commit": base64.b64encode(hashlib.sha256(salt + data).digest()).decode()}


def leaf_hash(e: dict[str, Any]) -> bytes:
    salts = {k: b64(v) for k, v in e["salts"].items()}
    obj: dict[str, Any] = {"v": 1}
    for key in (
        "tenant_id",
        "seq",
        "id",
        "action",
        "occurred_at",
        "received_at",
        "outcome",
        "account_id",
        "request_id",
    ):
        if key in e:
            obj[key] = e[key]
    for part in ("actor", "target"):
        if part in e:
            obj[part] = {
                k: commit(salts[f"{part}.{k}"], v) if k in PERSONAL else v
                for k, v in e[part].items()
            }
    if "resource" in e:
        obj["resource"] = dict(e["resource"])
    for key in ("description", "context", "ip", "user_agent"):
        if key in e:
            obj[key] = commit(salts[key], e[key])
    return hashlib.sha256(b"\x00" + rfc8785.dumps(obj)).digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2."""
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        assert sn != 0
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    assert sn == 0
    return r


def consistent(first: int, second: int, proof: list[bytes], root1: bytes, root2: bytes) -> bool:
    """RFC 9162 §2.1.4.2."""
    if first == second:
        return not proof and root1 == root2
    if first & (first - 1) == 0:
        proof = [root1, *proof]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root1 and sr == root2 and sn == 0


def open_checkpoint(note: str, vkey: str, origin: str) -> tuple[int, bytes]:
    name, key_hash, key = vkey.split("+", 2)
    raw = b64(key)
    assert raw[0] == 1
    text, _, signatures = note.partition("\n\n")
    body = (text + "\n").encode()
    verified = False
    for line in signatures.splitlines():
        signer, sig = line.removeprefix("— ").split(" ")
        blob = b64(sig)
        if signer == name and blob[:4].hex() == key_hash:
            Ed25519PublicKey.from_public_bytes(raw[1:]).verify(blob[4:], body)
            verified = True
    assert verified
    lines = text.split("\n")
    assert lines[0] == origin
    return int(lines[1]), b64(lines[2])


@pytest.fixture
def recorded(api: Api) -> Api:
    rows = [
        event(
            f"p{i}",
            target={"type": "user", "id": f"t{i}", "name": "Tess", "email": "t@example.com"},
            resource={"type": "app", "id": "app_1", "name": "Bot"},
            context={"previous_role": "member", "new_role": "admin", "n": i, "ok": True, "x": None},
            ip="10.0.0.1",
            user_agent="curl/8",
            account_id="acc",
            request_id=f"r{i}",
            description=f"event {i} ünïcödé",
        )
        for i in range(13)
    ]
    api.post({"events": rows[:5]})
    api.post({"events": rows[5:]})
    return api


def test_an_outside_verifier_checks_every_event_and_checkpoint(recorded: Api) -> None:
    checkpoint = recorded.get("/v1/checkpoint").json()
    size, root = open_checkpoint(
        checkpoint["checkpoint"], checkpoint["verifier_key"], "sealtrail/acme"
    )
    assert size == checkpoint["tree_size"] == 13
    assert root == b64(checkpoint["root_hash"])
    for i in range(13):
        e = recorded.get(f"/v1/events/p{i}", include="salts").json()
        leaf = leaf_hash(e)
        proof = e["proof"]
        assert b64(proof["leaf_hash"]) == leaf
        assert (
            root_from_inclusion(
                e["seq"], proof["tree_size"], leaf, [b64(h) for h in proof["proof"]]
            )
            == root
        )
        standalone = recorded.get("/v1/proofs/inclusion", seq=e["seq"]).json()
        assert standalone["proof"] == proof["proof"]


def test_consistency_between_any_two_sizes(recorded: Api) -> None:
    roots = {}
    for size in range(1, 14):
        inclusion = recorded.get("/v1/proofs/inclusion", seq=0, size=size).json()
        leaf = b64(inclusion["leaf_hash"])
        roots[size] = root_from_inclusion(0, size, leaf, [b64(h) for h in inclusion["proof"]])
    for first in range(1, 14):
        for second in range(first, 14):
            body = recorded.get("/v1/proofs/consistency", first=first, second=second).json()
            proof = [b64(h) for h in body["proof"]]
            assert consistent(first, second, proof, roots[first], roots[second]), (first, second)
    assert recorded.get("/v1/proofs/consistency", first=0).json()["proof"] == []


def test_checkpoint_covers_every_acknowledged_event(recorded: Api) -> None:
    assert recorded.get("/v1/checkpoint").json()["tree_size"] == 13
    recorded.post(event("late"))
    assert recorded.get("/v1/checkpoint").json()["tree_size"] == 14


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/proofs/inclusion", {"seq": 99}),
        ("/v1/proofs/inclusion", {"seq": -1}),
        ("/v1/proofs/inclusion", {"seq": "x"}),
        ("/v1/proofs/inclusion", {}),
        ("/v1/proofs/consistency", {"first": 5, "second": 3}),
        ("/v1/proofs/consistency", {"first": 1, "second": 99}),
    ],
)
def test_impossible_proofs_are_refused(recorded: Api, path: str, params: dict[str, Any]) -> None:
    assert recorded.get(path, **params).status_code in (404, 422)
