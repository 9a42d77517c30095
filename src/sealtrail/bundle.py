"""Export bundles: everything an auditor needs to verify events offline.

A bundle is NDJSON, so both writing and verifying stream in flat memory:

1. a header ``{"sealtrail_bundle": 1, "tenant_id", "origin", "verifier_key",
   "checkpoint", "tree_size", "root_hash", "complete", "query", "exported_at"}``
   — ``checkpoint`` is the signed note every proof below is against, and
   ``complete`` says the bundle holds the tenant's whole log (every seq from 0
   to tree_size - 1, or from its minimum index when a prefix was pruned: the
   ``audit_log.events_pruned`` event in the bundle says so), so a verifier can
   also recompute the root from it — and the root at any older checkpoint's
   size; a partial or pruned bundle instead carries ``consistency_proofs`` from
   the tenant's earlier checkpoints (size → proof);
2. one line per event: ``{"event": {… with "salts"}, "proof": [b64, …]}``,
   the RFC 6962 inclusion proof of leaf ``event.seq`` in the checkpoint's tree;
3. a trailer ``{"end": true, "events": N}``, so a truncated file is noticed.

Events recorded after the checkpoint was signed are left out: every line is
provable against the header.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

import orjson

from sealtrail.events import Event, format_timestamp, now_micros
from sealtrail.ledger import tree
from sealtrail.ledger.checkpoint import origin_for_tenant
from sealtrail.query import EventQuery, format_phrase
from sealtrail.store.base import EventStore, StoredCheckpoint

BUNDLE_VERSION: Final = 1
MAX_GROWTH_PROOFS: Final = 1000
_CACHED_LEVEL: Final = 4  # nodes this high up are shared by many proofs: keep them


class _CachingReader:
    """Tree nodes of one tenant, remembering the upper levels between proofs."""

    def __init__(self, store: EventStore, tenant_id: str) -> None:
        self._store = store
        self._tenant_id = tenant_id
        self._cache: dict[tuple[int, int], bytes] = {}

    def nodes(self, keys: Sequence[tuple[int, int]]) -> Sequence[bytes]:
        missing = [k for k in keys if k not in self._cache]
        if missing:
            for key, value in zip(
                missing, self._store.tree_nodes(self._tenant_id, missing), strict=True
            ):
                if key[0] >= _CACHED_LEVEL:
                    self._cache[key] = value
                else:
                    self._cache.setdefault(key, value)
            found = [self._cache[k] for k in keys]
            for key in missing:
                if key[0] < _CACHED_LEVEL:
                    del self._cache[key]
            return found
        return [self._cache[k] for k in keys]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def write(
    store: EventStore,
    checkpoint: StoredCheckpoint,
    verifier_key: str,
    query: EventQuery,
    events: Iterable[list[Event]] | None,
) -> Iterator[bytes]:
    """The bundle of ``events`` (chunks of the query's matches), proven against ``checkpoint``.

    ``events`` is None for a complete bundle: the tenant's whole log, read in seq
    order. ``AuditLog.export`` decides which it is and applies the caller's scope.
    The header (and a partial bundle's consistency proofs) is built before this
    returns, so a failure there raises before a response sends its first byte.
    """
    tenant_id = checkpoint.tenant_id
    complete = events is None
    size = checkpoint.tree_size
    header: dict[str, Any] = {
        "sealtrail_bundle": BUNDLE_VERSION,
        "tenant_id": tenant_id,
        "origin": origin_for_tenant(tenant_id),
        "verifier_key": verifier_key,
        "checkpoint": checkpoint.note,
        "tree_size": size,
        "root_hash": _b64(checkpoint.root_hash),
        "complete": complete,
        "query": format_phrase(query),
        "exported_at": format_timestamp(now_micros()),
    }
    reader = _CachingReader(store, tenant_id)
    if not complete or store.prunes(tenant_id):
        # A partial (or pruned) bundle cannot rebuild the tree, so it proves growth from
        # every earlier checkpoint an auditor may hold (the newest MAX_GROWTH_PROOFS).
        earlier = [c.tree_size for c in store.checkpoints(tenant_id) if 0 < c.tree_size < size]
        header["consistency_proofs"] = {
            str(old): [_b64(h) for h in tree.consistency_proof_from_nodes(reader, old, size)]
            for old in earlier[-MAX_GROWTH_PROOFS:]
        }
    chunks = (
        ([event for event, _ in pairs] for pairs in store.scan(tenant_id))
        if events is None
        else events
    )
    return _lines(orjson.dumps(header), chunks, reader, size)


def _lines(
    header: bytes, chunks: Iterable[list[Event]], reader: _CachingReader, size: int
) -> Iterator[bytes]:
    yield header + b"\n"
    count = 0
    for chunk in chunks:
        lines = []
        for event in chunk:
            if event.seq >= size:
                continue
            proof = tree.inclusion_proof_from_nodes(reader, event.seq, size)
            lines.append(
                orjson.dumps(
                    {"event": event.to_dict(include_salts=True), "proof": [_b64(h) for h in proof]}
                )
            )
            count += 1
        if lines:
            yield b"\n".join(lines) + b"\n"
    yield orjson.dumps({"end": True, "events": count}) + b"\n"
