"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification.

Each tenant's events are the leaves of one append-only Merkle tree, so this is
the arithmetic every tamper-evidence claim rests on. It is pure: bytes in,
bytes out, no storage. Proof *generation* here works on a list of leaf hashes
(the reference, used by tests and small exports); :mod:`sealtrail.ledger.tree`
builds the same proofs from stored subtree hashes at any tree size.

Hashes: leaf = SHA-256(0x00 ‖ data), node = SHA-256(0x01 ‖ left ‖ right),
the empty tree = SHA-256(""). Hashes are compared as bytes.

Consistency rules (``verify_consistency``), in this order:

1. ``size1 > size2`` is an error.
2. ``size1 == size2``: the proof must be empty and ``root1 == root2`` (the
   roots are compared as they are; their length is not checked, as in
   transparency-dev/merkle).
3. ``size1 == 0`` (so ``size2 > 0``): **the proof must be empty and is always
   valid** — every tree extends the empty tree, which has no leaves to commit
   to. This is the C2SP tlog-witness rule ("the proof MUST be empty if the old
   size is zero"); the roots are not examined. transparency-dev/merkle instead
   refuses any proof from size 0 as meaningless, and its
   ``consistency/additional`` vectors encode that policy; ours differs there
   on purpose.
4. Otherwise the RFC 9162 §2.1.4.2 algorithm.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Final

from sealtrail.errors import ProofError

HASH_SIZE: Final = 32
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256
_LEAF: Final = b"\x00"
_NODE: Final = b"\x01"


def hash_leaf(data: bytes) -> bytes:
    """The RFC 6962 leaf hash: SHA-256(0x00 ‖ data)."""
    return _sha256(_LEAF + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """The RFC 6962 interior node hash: SHA-256(0x01 ‖ left ‖ right)."""
    return _sha256(_NODE + left + right).digest()


def _next_level(nodes: Sequence[bytes]) -> list[bytes]:
    """Pair up one level; an odd last node moves up unchanged (RFC 6962's shape)."""
    sha = _sha256
    pairs = iter(nodes[: len(nodes) & ~1])
    upper = [sha(_NODE + left + right).digest() for left, right in zip(pairs, pairs, strict=True)]
    if len(nodes) & 1:
        upper.append(nodes[-1])
    return upper


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the given leaf hashes, level by level (no recursion)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level: Sequence[bytes] = leaf_hashes
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


def _levels(leaf_hashes: Sequence[bytes], size: int) -> list[list[bytes]]:
    """Every level of the tree over ``leaf_hashes[:size]``.

    ``levels[h][i]`` is the MTH of leaves ``[i·2^h, min((i+1)·2^h, size))``:
    a complete subtree, or the right-edge subtree the RFC's split produces.
    """
    if size > len(leaf_hashes):
        raise ProofError(f"tree size {size} exceeds the {len(leaf_hashes)} leaves given")
    levels = [list(leaf_hashes[:size])]
    while len(levels[-1]) > 1:
        levels.append(_next_level(levels[-1]))
    return levels


def _node(levels: list[list[bytes]], start: int, end: int) -> bytes:
    """MTH of leaves ``[start, end)`` where that range is a node of the tree."""
    height = (end - start - 1).bit_length()
    return levels[height][start >> height]


def inclusion_proof(index: int, size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of the first ``size`` leaves."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    levels = _levels(leaf_hashes, size)
    proof = []
    for level in levels[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append(level[sibling])
        index >>= 1
    return proof


def consistency_proof(size1: int, size2: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(size1, D[size2]) of RFC 9162 §2.1.4.1; empty for size1 of 0 or size2."""
    if not 0 <= size1 <= size2:
        raise ProofError(f"no consistency proof from size {size1} to size {size2}")
    if size1 in (0, size2):
        if size2 > len(leaf_hashes):
            raise ProofError(f"tree size {size2} exceeds the {len(leaf_hashes)} leaves given")
        return []
    levels = _levels(leaf_hashes, size2)
    proof: list[bytes] = []
    _subproof(levels, size1, 0, size2, True, proof)
    return proof


def _subproof(
    levels: list[list[bytes]], m: int, start: int, end: int, whole: bool, out: list[bytes]
) -> None:
    """SUBPROOF(m, D[start:end], whole), appending to ``out``."""
    n = end - start
    if m == n:
        if not whole:
            out.append(_node(levels, start, end))
        return
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        _subproof(levels, m, start, start + k, whole, out)
        out.append(_node(levels, start + k, end))
    else:
        _subproof(levels, m - k, start + k, end, False, out)
        out.append(_node(levels, start, start + k))


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{name} is {len(value)} bytes, not {HASH_SIZE}")


def root_from_inclusion_proof(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> bytes:
    """The root that ``proof`` implies for ``leaf_hash`` at ``index`` (RFC 9162 §2.1.3.2)."""
    return _fold_audit_path(index, size, leaf_hash, proof, left_only=False)


def root_of_prefix(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]) -> bytes:
    """The root of the tree of the first ``index + 1`` leaves, from leaf ``index``'s proof.

    The left siblings on a leaf's audit path are the complete subtrees that tile
    the leaves before it, so the leaf and those siblings alone fold into the root
    of the tree that ends with that leaf. Once ``proof`` has been verified against
    a signed root of ``size``, this root is as trustworthy as that one: it proves
    what the log held at size ``index + 1`` without any other proof.
    """
    return _fold_audit_path(index, size, leaf_hash, proof, left_only=True)


def _fold_audit_path(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], *, left_only: bool
) -> bytes:
    """Fold ``proof`` into ``leaf_hash`` as RFC 9162 §2.1.3.2 walks it; with
    ``left_only``, the right siblings are checked for place but not hashed in."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hash("the leaf hash", leaf_hash)
    fn, sn, r = index, size - 1, leaf_hash
    for position, p in enumerate(proof):
        _check_hash(f"inclusion proof element {position}", p)
        if sn == 0:
            raise ProofError(f"inclusion proof has {len(proof)} elements; too many for this tree")
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        elif not left_only:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"inclusion proof has {len(proof)} elements; too few for this tree")
    return r


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise ProofError unless ``proof`` shows ``leaf_hash`` at ``index`` under ``root``."""
    computed = root_from_inclusion_proof(index, size, leaf_hash, proof)
    if computed != root:
        raise ProofError(
            f"inclusion proof for leaf {index} of {size} leads to root {computed.hex()}, "
            f"not {root.hex()}"
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Raise ProofError unless ``proof`` shows tree (size2, root2) extends (size1, root1).

    See the module docstring for the size-0 and equal-size rules.
    """
    if size1 < 0 or size1 > size2:
        raise ProofError(f"tree size {size1} cannot precede tree size {size2}")
    if size1 == size2:
        if proof:
            raise ProofError(f"equal sizes ({size1}) need an empty proof, got {len(proof)}")
        if root1 != root2:
            raise ProofError(f"two different roots for the same tree size {size1}")
        return
    if size1 == 0:
        if proof:
            raise ProofError(f"a proof from the empty tree must be empty, got {len(proof)}")
        return
    if not proof:
        raise ProofError(f"consistency from size {size1} to {size2} needs a non-empty proof")
    for position, p in enumerate(proof):
        _check_hash(f"consistency proof element {position}", p)

    path: Sequence[bytes] = proof
    if size1 & (size1 - 1) == 0:  # a power of two: root1 is itself a node of tree 2
        path = [root1, *proof]
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof has {len(proof)} elements; too many")
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"consistency proof has {len(proof)} elements; too few")
    if fr != root1:
        raise ProofError(f"consistency proof does not lead to the size-{size1} root")
    if sr != root2:
        raise ProofError(f"consistency proof does not lead to the size-{size2} root")


def inclusion_ok(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """``verify_inclusion`` as a boolean."""
    try:
        verify_inclusion(index, size, leaf_hash, proof, root)
    except ProofError:
        return False
    return True


def consistency_ok(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> bool:
    """``verify_consistency`` as a boolean."""
    try:
        verify_consistency(size1, size2, proof, root1, root2)
    except ProofError:
        return False
    return True
