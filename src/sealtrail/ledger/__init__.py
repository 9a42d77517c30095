"""The tamper-evidence core: RFC 6962 Merkle trees and their proofs.

Pure code: no SQL, no HTTP, no CLI. Stores persist what ``tree.append``
returns and answer ``NodeReader`` lookups; everything else is arithmetic.
"""

from sealtrail.ledger.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    consistency_ok,
    consistency_proof,
    hash_children,
    hash_leaf,
    inclusion_ok,
    inclusion_proof,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from sealtrail.ledger.tree import (
    AppendResult,
    Node,
    NodeKey,
    NodeReader,
    append,
    consistency_proof_from_nodes,
    frontier_from_nodes,
    inclusion_proof_from_nodes,
    root_from_frontier,
    root_from_nodes,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "AppendResult",
    "Node",
    "NodeKey",
    "NodeReader",
    "append",
    "consistency_ok",
    "consistency_proof",
    "consistency_proof_from_nodes",
    "frontier_from_nodes",
    "hash_children",
    "hash_leaf",
    "inclusion_ok",
    "inclusion_proof",
    "inclusion_proof_from_nodes",
    "root_from_frontier",
    "root_from_inclusion_proof",
    "root_from_leaf_hashes",
    "root_from_nodes",
    "verify_consistency",
    "verify_inclusion",
]
