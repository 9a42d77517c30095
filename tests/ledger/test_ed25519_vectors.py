"""Ed25519 (RFC 8032 §7.1 and Wycheproof) through the key classes notes use."""

from __future__ import annotations

from typing import Any

import pytest

from sealtrail.ledger.note import Signer, Verifier

from .vectors import load_json

RFC8032 = load_json("ed25519/rfc8032-section-7.1-ed25519.json")["vectors"]
WYCHEPROOF = load_json("ed25519/wycheproof-ed25519_test.json")
WYCHEPROOF_CASES = [
    (group["publicKey"]["pk"], test)
    for group in WYCHEPROOF["testGroups"]
    for test in group["tests"]
]


@pytest.mark.parametrize("vector", RFC8032, ids=lambda v: v["name"])
def test_rfc8032(vector: dict[str, str]) -> None:
    signer = Signer("rfc8032", bytes.fromhex(vector["secret_key"]))
    message = bytes.fromhex(vector["message"])
    assert signer.verifier.public_key.hex() == vector["public_key"]
    assert signer.sign(message).hex() == vector["signature"]
    assert signer.verifier.verify(message, bytes.fromhex(vector["signature"]))
    assert not signer.verifier.verify(message + b"!", bytes.fromhex(vector["signature"]))


def test_wycheproof_is_complete() -> None:
    assert len(WYCHEPROOF_CASES) == WYCHEPROOF["numberOfTests"] == 151
    assert sum(t["result"] == "valid" for _, t in WYCHEPROOF_CASES) == 88


@pytest.mark.parametrize(
    ("public_key", "test"), WYCHEPROOF_CASES, ids=[str(t["tcId"]) for _, t in WYCHEPROOF_CASES]
)
def test_wycheproof(public_key: str, test: dict[str, Any]) -> None:
    verifier = Verifier("wycheproof", bytes.fromhex(public_key))
    ok = verifier.verify(bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"]))
    assert ok is (test["result"] == "valid"), test["comment"]
