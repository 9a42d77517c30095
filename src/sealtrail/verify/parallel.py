"""Verifying a tenant's seq ranges in worker processes.

``verify_store(..., workers=N)`` cuts seq ``0..head - 1`` into ranges of a
power-of-two size, aligned to it, and hands them to N worker processes. Each
worker opens the store by its URL and checks one range alone, exactly as the
single pass would for rows that are exactly the range's seqs:

* every row's leaf rebuilt from its columns and compared with the stored
  leaf hash (``rows.row_leaf``), the problems in seq order;
* every complete subtree inside the range rebuilt from those leaves and
  compared with the stored node (read a level at a time);
* the range's own right-edge subtrees at its end and at each checkpoint size
  inside it, so the parent can rebuild those roots.

A range that is not exactly its seqs (a gap, a repeat, a pruned stretch) comes
back as None, and the parent reads it again with the single pass: which of
those a problem is, and what it is joined with, depends on the rows before.
The parent takes the ranges in seq order, so the report — every problem and
its order — is the one a single process writes.
"""

from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final

from sealtrail.retention import PRUNED_ACTION
from sealtrail.store.base import EventStore
from sealtrail.store.codec import from_row
from sealtrail.verify.rows import row_leaf

RANGE_SIZE: Final = 1 << 16
"""Events per range handed to a worker: big enough that a range's fixed costs vanish."""

NodeKey = tuple[int, int]
Job = tuple[int, int, tuple[int, ...]]
"""``(start, stop, checkpoint sizes strictly inside)`` of one range."""

_sha256 = hashlib.sha256


@dataclass(frozen=True, slots=True)
class RangeFound:
    """What a worker found in a range whose rows are exactly its seqs."""

    problems: list[tuple[int, str]] = field(default_factory=list)
    announced: dict[int, tuple[object, object]] = field(default_factory=dict)
    bad_nodes: dict[NodeKey, bytes | None] = field(default_factory=dict)
    frontiers: dict[int, list[bytes]] = field(default_factory=dict)
    """At each checkpoint size inside the range: the range's part of the frontier."""
    frontiers_at_stop: list[bytes] = field(default_factory=list)
    """The range's right-edge complete subtrees at its end (its root, for a full range)."""


def announcement(row: Sequence[Any]) -> tuple[object, object] | None:
    """The (first_seq, last_seq) a prune's ``audit_log.events_pruned`` row announces."""
    event = from_row(row)
    if event.action == PRUNED_ACTION and isinstance(event.context, dict):
        return event.context.get("first_seq"), event.context.get("last_seq")
    return None


def check_range(store: EventStore, tenant_id: str, job: Job) -> RangeFound | None:
    """Check seq ``start``..``stop - 1`` alone; None unless the rows are exactly those seqs."""
    start, stop, checkpoints = job
    found = RangeFound()
    leaves: list[bytes] = []
    expected = start
    for rows in store.scan_rows(tenant_id, start, stop, chunk_size=10_000):
        for row in rows:
            seq = row[1]
            if seq != expected:
                return None
            if row[3] == PRUNED_ACTION:
                announced = announcement(row)
                if announced is not None:
                    found.announced[seq] = announced
            mine, problem = row_leaf(row)
            if problem is not None:
                found.problems.append((seq, problem))
            leaves.append(mine)
            expected += 1
    if expected != stop:
        return None
    levels = _levels(leaves)
    for level in range(1, len(levels)):
        first = start >> level
        _compare(store, tenant_id, level, first, levels[level], found.bad_nodes)
    for size in checkpoints:
        found.frontiers[size] = _frontier(levels, size - start)
    found.frontiers_at_stop.extend(_frontier(levels, stop - start))
    return found


def _levels(leaves: list[bytes]) -> list[list[bytes]]:
    """The complete subtrees of each level over ``leaves`` (an odd last node waits)."""
    levels = [leaves]
    node = b"\x01"
    sha = _sha256
    while len(levels[-1]) > 1:
        below = levels[-1]
        pairs = iter(below[: len(below) & ~1])
        levels.append(
            [sha(node + left + right).digest() for left, right in zip(pairs, pairs, strict=True)]
        )
    return levels


def _compare(
    store: EventStore,
    tenant_id: str,
    level: int,
    first: int,
    mine: list[bytes],
    bad: dict[NodeKey, bytes | None],
) -> None:
    stored = store.tree_node_range(tenant_id, level, first, first + len(mine))
    if len(stored) == len(mine) and [node for _, node in stored] == mine:
        return  # all there (the indexes are distinct and in range), all equal
    theirs = dict(stored)
    for index, node in enumerate(mine, first):
        kept = theirs.get(index)
        if kept != node:
            bad[(level, index)] = kept


def _frontier(levels: list[list[bytes]], count: int) -> list[bytes]:
    """The complete subtrees covering the range's first ``count`` leaves, largest first."""
    out: list[bytes] = []
    offset = 0
    for level in range(count.bit_length() - 1, -1, -1):
        if count & (1 << level):
            out.append(levels[level][offset >> level])
            offset += 1 << level
    return out


# -- the worker processes ------------------------------------------------------------------
_opened: dict[str, EventStore] = {}


def _check_range_at(url: str, tenant_id: str, job: Job) -> RangeFound | None:
    store = _opened.get(url)
    if store is None:
        from sealtrail.store import open_store

        store = _opened[url] = open_store(url)
    return check_range(store, tenant_id, job)


class Pool:
    """Worker processes for one ``verify_store`` call, started when first needed."""

    def __init__(self, store: EventStore, workers: int) -> None:
        self.workers = workers
        self._url = store.url
        self._executor: Executor | None = None

    def ranges(self, tenant_id: str, jobs: Sequence[Job]) -> Iterator[RangeFound | None]:
        """What each range holds, in the order of ``jobs`` (all are queued at once)."""
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn")
            )
        count = len(jobs)
        return self._executor.map(_check_range_at, [self._url] * count, [tenant_id] * count, jobs)

    def __enter__(self) -> Pool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
