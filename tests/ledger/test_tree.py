"""tree.py: stored-node proofs equal the list proofs, with few, batched reads."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from sealtrail.errors import InconsistentTree, ProofError
from sealtrail.ledger.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    hash_leaf,
    inclusion_proof,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from sealtrail.ledger.tree import (
    AppendResult,
    NodeKey,
    append,
    consistency_proof_from_nodes,
    frontier_from_nodes,
    inclusion_proof_from_nodes,
    root_from_frontier,
    root_from_nodes,
)


class DictReader:
    """An in-memory NodeReader that counts its round trips."""

    def __init__(self) -> None:
        self.store: dict[NodeKey, bytes] = {}
        self.calls = 0
        self.keys_read = 0

    def nodes(self, keys: Sequence[NodeKey]) -> Sequence[bytes]:
        self.calls += 1
        self.keys_read += len(keys)
        return [self.store[key] for key in keys]

    def add(self, result: AppendResult) -> None:
        for level, index, node in result.new_nodes:
            assert (level, index) not in self.store, "a stored node was rewritten"
            self.store[level, index] = node


def _leaves(n: int, seed: int = 0) -> list[bytes]:
    return [hash_leaf(f"{seed}/{i}".encode()) for i in range(n)]


def _build(leaf_hashes: list[bytes], rng: random.Random) -> DictReader:
    """Append in random batch sizes, checking the state after every batch."""
    reader = DictReader()
    frontier: list[bytes] = []
    size = 0
    while size < len(leaf_hashes):
        batch = leaf_hashes[size : size + rng.choice([1, 1, 2, 3, 7, 16, 50])]
        result = append(frontier, size, batch)
        reader.add(result)
        frontier, size = result.frontier, result.size
        assert result.root == root_from_leaf_hashes(leaf_hashes[:size])
        assert len(frontier) == size.bit_count()
    return reader


SMALL = _leaves(128)
SMALL_READER = _build(SMALL, random.Random(1))


def test_stored_nodes_are_exactly_the_complete_subtrees() -> None:
    expected = {}
    for level in range(8):
        width = 1 << level
        for index in range(128 // width):
            expected[level, index] = root_from_leaf_hashes(
                SMALL[index * width : (index + 1) * width]
            )
    assert SMALL_READER.store == expected


def test_roots_and_frontiers_for_every_size_up_to_128() -> None:
    for n in range(129):
        frontier = frontier_from_nodes(SMALL_READER, n)
        assert root_from_frontier(frontier, n) == root_from_leaf_hashes(SMALL[:n])
        assert root_from_nodes(SMALL_READER, n) == root_from_leaf_hashes(SMALL[:n])
    assert root_from_frontier([], 0) == EMPTY_ROOT


def test_every_inclusion_proof_up_to_128_leaves() -> None:
    for n in range(1, 129):
        for m in range(n):
            assert inclusion_proof_from_nodes(SMALL_READER, m, n) == inclusion_proof(m, n, SMALL)


def test_every_consistency_proof_up_to_128_leaves() -> None:
    for n in range(129):
        for m in range(n + 1):
            assert consistency_proof_from_nodes(SMALL_READER, m, n) == consistency_proof(
                m, n, SMALL
            ), (m, n)


def test_random_larger_trees() -> None:
    rng = random.Random(7)
    leaves = _leaves(5000, seed=1)
    reader = _build(leaves, rng)
    for _ in range(40):
        n = rng.randint(1, 5000)
        m = rng.randrange(n)
        assert inclusion_proof_from_nodes(reader, m, n) == inclusion_proof(m, n, leaves)
        m = rng.randint(0, n)
        assert consistency_proof_from_nodes(reader, m, n) == consistency_proof(m, n, leaves)


def test_large_tree_proofs_are_few_batched_reads() -> None:
    """At ~250k leaves each proof is one read of O(log n) nodes, and verifies."""
    n = (1 << 18) + 12345
    reader = DictReader()
    result = append([], 0, [hash_leaf(i.to_bytes(4, "big")) for i in range(n)])
    reader.add(result)
    rng = random.Random(3)
    for _ in range(50):
        size = rng.randint(n // 2, n)
        index = rng.randrange(size)
        root = root_from_nodes(reader, size)
        reader.calls = reader.keys_read = 0
        proof = inclusion_proof_from_nodes(reader, index, size)
        assert reader.calls == 1
        assert reader.keys_read <= 2 * size.bit_length()
        verify_inclusion(index, size, reader.store[0, index], proof, root)

        old = rng.randint(1, size)
        reader.calls = reader.keys_read = 0
        proof = consistency_proof_from_nodes(reader, old, size)
        assert reader.calls <= 1
        assert reader.keys_read <= 3 * size.bit_length()
        verify_consistency(old, size, proof, root_from_nodes(reader, old), root)


def test_append_emits_only_new_nodes_and_continues_a_frontier() -> None:
    first = append([], 0, SMALL[:5])
    second = append(first.frontier, first.size, SMALL[5:8])
    assert [(lvl, idx) for lvl, idx, _ in second.new_nodes] == [
        (0, 5),
        (1, 2),
        (0, 6),
        (0, 7),
        (1, 3),
        (2, 1),
        (3, 0),
    ]
    assert second.root == root_from_leaf_hashes(SMALL[:8])
    assert append(second.frontier, 8, []) == AppendResult([], second.frontier, 8, second.root)


def test_bad_states_are_refused() -> None:
    with pytest.raises(InconsistentTree, match="frontier holds 1"):
        append([EMPTY_ROOT], 3, SMALL[:1])
    with pytest.raises(InconsistentTree):
        root_from_frontier([], 3)
    with pytest.raises(ProofError, match="pass leaf hashes"):
        append([], 0, [b"raw leaf bytes"])
    with pytest.raises(ProofError):
        inclusion_proof_from_nodes(SMALL_READER, 5, 5)
    with pytest.raises(ProofError):
        consistency_proof_from_nodes(SMALL_READER, 6, 5)

    class ShortReader:
        def nodes(self, keys: Sequence[NodeKey]) -> Sequence[bytes]:
            return [EMPTY_ROOT]

    with pytest.raises(InconsistentTree, match="got 1"):
        inclusion_proof_from_nodes(ShortReader(), 3, 100)
