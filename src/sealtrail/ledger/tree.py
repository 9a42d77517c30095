"""The Merkle tree of a store that holds millions of leaves.

A store cannot rehash every leaf on each append or proof, so it persists every
*complete* subtree hash, keyed ``(level, index)``: level 0 holds the leaf
hashes, and node ``(h, i)`` is the MTH of leaves ``[i·2^h, (i+1)·2^h)``. Those
nodes never change once written. On top of them:

* ``append`` turns a batch of leaf hashes into the new nodes to persist, the
  new *frontier* (the complete subtrees along the right edge, largest first —
  one per set bit of the size) and the new root: O(batch + log n).
* proofs and older roots read O(log n) nodes through a ``NodeReader`` in one
  batched call; a right-edge subtree that is not complete is hashed from its
  complete parts.

Nothing here talks to a database: the store implements ``NodeReader``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias

from sealtrail.errors import InconsistentTree, ProofError
from sealtrail.ledger.merkle import EMPTY_ROOT, HASH_SIZE, hash_children

NodeKey: TypeAlias = tuple[int, int]
"""``(level, index)`` of a complete subtree."""

Node: TypeAlias = tuple[int, int, bytes]
"""``(level, index, hash)`` of a complete subtree."""


class NodeReader(Protocol):
    """Where complete-subtree hashes are read from (a store, or a dict in tests)."""

    def nodes(self, keys: Sequence[NodeKey]) -> Sequence[bytes]:
        """Return the hash of every key, in the order asked, in one round trip.

        Raise if a key is unknown; every key asked for lies inside the tree.
        """
        ...


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What an append produced: nodes to persist and the tree state after it."""

    new_nodes: list[Node]
    frontier: list[bytes]
    size: int
    root: bytes


def _check_frontier(frontier: Sequence[bytes], size: int) -> None:
    if size < 0:
        raise InconsistentTree(f"a tree cannot have size {size}")
    if len(frontier) != size.bit_count():
        raise InconsistentTree(
            f"a tree of size {size} has {size.bit_count()} right-edge subtrees, "
            f"but the frontier holds {len(frontier)}"
        )


def root_from_frontier(frontier: Sequence[bytes], size: int) -> bytes:
    """The root of a tree of ``size`` from its right-edge complete subtrees."""
    _check_frontier(frontier, size)
    if size == 0:
        return EMPTY_ROOT
    root = frontier[-1]
    for left in reversed(frontier[:-1]):
        root = hash_children(left, root)
    return root


def append(frontier: Sequence[bytes], size: int, new_leaf_hashes: Sequence[bytes]) -> AppendResult:
    """Add leaves to a tree of ``size`` whose right edge is ``frontier``."""
    _check_frontier(frontier, size)
    edge = list(frontier)
    new_nodes: list[Node] = []
    emit = new_nodes.append
    n = size
    for leaf_hash in new_leaf_hashes:
        if len(leaf_hash) != HASH_SIZE:
            raise ProofError(f"leaf {n} is {len(leaf_hash)} bytes: pass leaf hashes, not leaves")
        node = leaf_hash
        emit((0, n, node))
        level, index = 0, n
        while index & 1:  # this leaf completes a subtree at each trailing 1 bit
            node = hash_children(edge.pop(), node)
            level += 1
            index >>= 1
            emit((level, index, node))
        edge.append(node)
        n += 1
    return AppendResult(new_nodes, edge, n, root_from_frontier(edge, n))


def _read(reader: NodeReader, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
    """Fetch ``keys`` in one call; a reader that returns the wrong count is refused."""
    unique = list(dict.fromkeys(keys))
    if not unique:
        return {}
    hashes = reader.nodes(unique)
    if len(hashes) != len(unique):
        raise InconsistentTree(f"asked the store for {len(unique)} nodes, got {len(hashes)}")
    return dict(zip(unique, hashes, strict=True))


def _range_keys(start: int, end: int) -> list[NodeKey]:
    """The complete subtrees, largest first, that make up the tree node ``[start, end)``."""
    keys = []
    width = end - start
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            keys.append((level, start >> level))
            start += 1 << level
    return keys


def _fold(keys: Sequence[NodeKey], hashes: dict[NodeKey, bytes]) -> bytes:
    root = hashes[keys[-1]]
    for key in reversed(keys[:-1]):
        root = hash_children(hashes[key], root)
    return root


def _path_ranges(level: int, index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges of the audit path of node ``(level, index)`` in a tree of ``size``.

    At each level the sibling is complete, the partial right edge of the tree
    (hashed from its parts), or absent (the node was promoted unchanged).
    """
    ranges = []
    while (1 << level) < size:
        sibling = index ^ 1
        start = sibling << level
        if start < size:
            ranges.append((start, min(start + (1 << level), size)))
        level += 1
        index >>= 1
    return ranges


def _proof_from_ranges(reader: NodeReader, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    key_lists = [_range_keys(start, end) for start, end in ranges]
    hashes = _read(reader, [key for keys in key_lists for key in keys])
    return [_fold(keys, hashes) for keys in key_lists]


def inclusion_proof_from_nodes(reader: NodeReader, index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size``, from stored nodes."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    return _proof_from_ranges(reader, _path_ranges(0, index, size))


def consistency_proof_from_nodes(reader: NodeReader, size1: int, size2: int) -> list[bytes]:
    """PROOF(size1, D[size2]) from stored nodes; empty for size1 of 0 or size2.

    The proof is the audit path, in tree ``size2``, of the largest complete
    subtree that ends at ``size1``, preceded by that subtree itself unless it
    is the whole old tree (``size1`` a power of two).
    """
    if not 0 <= size1 <= size2:
        raise ProofError(f"no consistency proof from size {size1} to size {size2}")
    if size1 in (0, size2):
        return []
    level = (size1 & -size1).bit_length() - 1
    index = (size1 - 1) >> level
    ranges = _path_ranges(level, index, size2)
    if index:  # size1 is not a power of two
        ranges.insert(0, (index << level, (index + 1) << level))
    return _proof_from_ranges(reader, ranges)


def frontier_keys(size: int) -> list[NodeKey]:
    """The complete subtrees, largest first, that make up the tree of ``size``."""
    return _range_keys(0, size)


def frontier_from_nodes(reader: NodeReader, size: int) -> list[bytes]:
    """The right-edge complete subtrees of the tree of ``size``, largest first."""
    if size < 0:
        raise InconsistentTree(f"a tree cannot have size {size}")
    keys = _range_keys(0, size)
    hashes = _read(reader, keys)
    return [hashes[key] for key in keys]


def root_from_nodes(reader: NodeReader, size: int) -> bytes:
    """The root of the tree of ``size`` (any size up to the current one)."""
    return root_from_frontier(frontier_from_nodes(reader, size), size)


def proofs_reading(level: int, index: int, size: int) -> list[tuple[int, int]]:
    """The leaves whose inclusion proofs in the tree of ``size`` read node ``(level, index)``.

    As leaf ranges ``[start, end)``. A complete node is read whole by the leaves
    under its sibling, and as one of the parts of a partial right-edge subtree
    by the leaves under that subtree's left sibling. A stored node that is wrong
    breaks exactly these proofs (and the consistency proofs that cross it).
    """
    start, end = index << level, (index + 1) << level
    if end > size:
        return []
    ranges = []
    sibling = (index ^ 1) << level
    if sibling < size:
        ranges.append((sibling, min(sibling + (1 << level), size)))
    for higher in range(level + 1, size.bit_length() + 1):
        edge = (start >> higher) << higher
        if not edge < size < edge + (1 << higher) or not (edge >> higher) & 1:
            continue
        if (level, index) in _range_keys(edge, size):
            ranges.append((edge - (1 << higher), edge))
    return sorted(ranges)
