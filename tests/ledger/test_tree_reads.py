"""Which proofs read a stored node, and the prefix root a verified proof implies."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest

from sealtrail.errors import ProofError
from sealtrail.ledger import merkle, tree


def _leaves(count: int) -> list[bytes]:
    return [merkle.hash_leaf(f"leaf {i}".encode()) for i in range(count)]


class _Recording:
    """A NodeReader over a full tree that remembers every key it was asked for."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        grown = tree.append([], 0, leaves)
        self.store = {(level, index): value for level, index, value in grown.new_nodes}
        self.asked: set[tuple[int, int]] = set()

    def nodes(self, keys: Sequence[tuple[int, int]]) -> Sequence[bytes]:
        self.asked.update(keys)
        return [self.store[key] for key in keys]


@pytest.mark.parametrize("size", [*range(1, 40), 63, 64, 65, 100])
def test_proofs_reading_names_exactly_the_leaves_whose_proofs_read_a_node(size: int) -> None:
    reader = _Recording(_leaves(size))
    readers_of: dict[tuple[int, int], set[int]] = {key: set() for key in reader.store}
    for leaf in range(size):
        reader.asked = set()
        tree.inclusion_proof_from_nodes(reader, leaf, size)
        for key in reader.asked:
            readers_of[key].add(leaf)
    for (level, index), leaves in readers_of.items():
        ranges = tree.proofs_reading(level, index, size)
        named = {leaf for start, end in ranges for leaf in range(start, end)}
        assert named == leaves, (level, index, size)


def test_a_node_beyond_the_tree_is_read_by_no_proof() -> None:
    assert tree.proofs_reading(1, 3, 7) == []
    assert tree.proofs_reading(3, 0, 7) == []


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 31, 32, 33, 100])
def test_the_prefix_root_of_each_leaf_is_the_root_of_the_tree_it_ends(size: int) -> None:
    leaves = _leaves(size)
    for index in range(size):
        proof = merkle.inclusion_proof(index, size, leaves)
        prefix = merkle.root_of_prefix(index, size, leaves[index], proof)
        assert prefix == merkle.root_from_leaf_hashes(leaves[: index + 1])


def test_the_prefix_root_refuses_a_proof_of_the_wrong_length() -> None:
    leaves = _leaves(9)
    proof = merkle.inclusion_proof(4, 9, leaves)
    with pytest.raises(ProofError):
        merkle.root_of_prefix(4, 9, leaves[4], proof[:-1])
    with pytest.raises(ProofError):
        merkle.root_of_prefix(4, 9, leaves[4], [*proof, hashlib.sha256().digest()])
    with pytest.raises(ProofError):
        merkle.root_of_prefix(9, 9, leaves[4], proof)
