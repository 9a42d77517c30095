"""merkle.py against a literal RFC 6962 implementation, exhaustively for small trees."""

from __future__ import annotations

import pytest

from sealtrail.errors import ProofError
from sealtrail.ledger.merkle import (
    EMPTY_ROOT,
    consistency_ok,
    consistency_proof,
    hash_leaf,
    inclusion_ok,
    inclusion_proof,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

from .rfc6962_reference import Rfc6962

DATA = [f"leaf {i}".encode() for i in range(256)]
LEAF_HASHES = [hash_leaf(d) for d in DATA]
REF = Rfc6962(DATA)


def _flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 0x08]) + value[1:]


def test_roots_match_the_rfc_for_every_size() -> None:
    for n in range(257):
        assert root_from_leaf_hashes(LEAF_HASHES[:n]) == REF.mth(0, n)
    assert root_from_leaf_hashes([]) == EMPTY_ROOT


@pytest.mark.parametrize("first", range(1, 257, 32))
def test_every_inclusion_proof_up_to_256_leaves(first: int) -> None:
    for n in range(first, first + 32):
        root = REF.mth(0, n)
        for m in range(n):
            proof = inclusion_proof(m, n, LEAF_HASHES)
            assert proof == REF.path(m, 0, n), (m, n)
            verify_inclusion(m, n, LEAF_HASHES[m], proof, root)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 8, 13, 64, 100, 255])
def test_tampered_inclusion_proofs_fail(n: int) -> None:
    root = REF.mth(0, n)
    for m in range(n):
        proof = inclusion_proof(m, n, LEAF_HASHES)
        other = (m + 1) % n
        if other != m:
            assert not inclusion_ok(m, n, LEAF_HASHES[other], proof, root)
            assert not inclusion_ok(other, n, LEAF_HASHES[m], proof, root)
        for i in range(len(proof)):
            bad = [*proof[:i], _flip(proof[i]), *proof[i + 1 :]]
            assert not inclusion_ok(m, n, LEAF_HASHES[m], bad, root)
        assert not inclusion_ok(m, n, LEAF_HASHES[m], [*proof, root], root)
        if proof:
            assert not inclusion_ok(m, n, LEAF_HASHES[m], proof[:-1], root)
        assert not inclusion_ok(m, n + 1, LEAF_HASHES[m], proof, REF.mth(0, n + 1))


def test_every_consistency_proof_up_to_100_leaves() -> None:
    for n in range(1, 101):
        root2 = REF.mth(0, n)
        for m in range(1, n):
            proof = consistency_proof(m, n, LEAF_HASHES)
            assert proof == REF.proof(m, n), (m, n)
            root1 = REF.mth(0, m)
            verify_consistency(m, n, proof, root1, root2)
            assert not consistency_ok(m, n, proof, root2, root1)
            for i in range(len(proof)):
                bad = [*proof[:i], _flip(proof[i]), *proof[i + 1 :]]
                assert not consistency_ok(m, n, bad, root1, root2), (m, n, i)
            assert not consistency_ok(m, n, proof[:-1], root1, root2)
            assert not consistency_ok(m, n, [*proof, root1], root1, root2)


def test_a_rewritten_history_is_not_consistent() -> None:
    forged = list(LEAF_HASHES[:40])
    forged[17] = hash_leaf(b"forged")
    for m in range(18, 40):
        proof = consistency_proof(m, 40, forged)
        assert not consistency_ok(m, 40, proof, REF.mth(0, m), root_from_leaf_hashes(forged))


def test_size_zero_rule() -> None:
    root = REF.mth(0, 5)
    verify_consistency(0, 5, [], EMPTY_ROOT, root)
    verify_consistency(0, 5, [], b"anything", root)  # roots are not examined from size 0
    verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    assert consistency_proof(0, 5, LEAF_HASHES) == []
    with pytest.raises(ProofError, match="must be empty"):
        verify_consistency(0, 5, [root], EMPTY_ROOT, root)
    with pytest.raises(ProofError, match="different roots"):
        verify_consistency(0, 0, [], EMPTY_ROOT, root)


def test_bad_arguments_are_refused() -> None:
    root = REF.mth(0, 8)
    with pytest.raises(ProofError, match="outside"):
        inclusion_proof(8, 8, LEAF_HASHES)
    with pytest.raises(ProofError, match="exceeds"):
        inclusion_proof(0, 300, LEAF_HASHES)
    with pytest.raises(ProofError):
        consistency_proof(5, 4, LEAF_HASHES)
    with pytest.raises(ProofError, match="exceeds"):
        consistency_proof(3, 300, LEAF_HASHES)
    with pytest.raises(ProofError, match="precede"):
        verify_consistency(9, 8, [], root, root)
    with pytest.raises(ProofError, match="bytes, not 32"):
        root_from_inclusion_proof(0, 8, LEAF_HASHES[0][:31], [])
    with pytest.raises(ProofError, match="element 1"):
        verify_inclusion(0, 8, LEAF_HASHES[0], [root, b"short", root], root)
    with pytest.raises(ProofError, match="not"):
        verify_inclusion(0, 1, LEAF_HASHES[0], [], root)
    with pytest.raises(ProofError, match="needs a non-empty proof"):
        verify_consistency(3, 8, [], REF.mth(0, 3), root)
