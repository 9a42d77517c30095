"""PostgreSQL: many processes append to one tenant and still make one gap-free log.

Four separate processes, each with its own store and connection pool (as
``serve --workers 4`` or four hosts would have), start together on a barrier
and append batches to the same tenant. Some ids are sent by every process, so
idempotency is exercised under contention too.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Sequence
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

import pytest

from sealtrail.ledger import merkle, tree
from sealtrail.store.postgres import PostgresStore

from .factory import add_tenant, fake_leaf, make_event, seal

pytestmark = pytest.mark.postgres

PROCESSES = 4
BATCHES = 12
BATCH = 25
SHARED = 10  # ids every process sends in its first batch

Result = list[tuple[str, int, bool]]


def _appender(url: str, worker: int, start: Barrier, results: Queue[Result]) -> None:
    store = PostgresStore(url, max_connections=2)
    try:
        start.wait(timeout=60)
        out: Result = []
        for batch in range(BATCHES):
            events = [make_event("acme", f"w{worker}-b{batch}-{i}") for i in range(BATCH)]
            if batch == 0:
                events += [make_event("acme", f"shared-{i}") for i in range(SHARED)]
            out += [(r.id, r.seq, r.created) for r in store.append("acme", events, seal)]
        results.put(out)
    finally:
        store.close()


def _run(url: str) -> list[Result]:
    # fork: the children start at once instead of re-importing everything; the
    # parent holds no open connection or pool thread when it forks.
    context = multiprocessing.get_context("fork")
    start = context.Barrier(PROCESSES)
    results: Queue[Result] = context.Queue()
    workers = [
        context.Process(target=_appender, args=(url, w, start, results)) for w in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    collected: list[Result] = []
    deadline = time.monotonic() + 240
    try:
        while len(collected) < PROCESSES:
            try:
                collected.append(results.get(timeout=0.5))
            except queue.Empty:
                failed = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
                assert not failed, f"an appending process failed with exit code {failed}"
                assert time.monotonic() < deadline, "the appending processes did not finish"
        return collected
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()


def _overlap(a: Sequence[int], b: Sequence[int]) -> bool:
    return min(a) < max(b) and min(b) < max(a)


def test_four_processes_make_one_gap_free_log_and_one_tree(postgres_url: str) -> None:
    setup = PostgresStore(postgres_url)
    try:
        setup.migrate()
        add_tenant(setup)
    finally:
        setup.close()
    results = _run(postgres_url)
    store = PostgresStore(postgres_url)
    try:
        total = PROCESSES * BATCHES * BATCH + SHARED
        created = [(ident, seq) for result in results for ident, seq, new in result if new]
        assert sorted(seq for _, seq in created) == list(range(total))
        shared = {(i, s) for r in results for i, s, _ in r if i.startswith("shared-")}
        assert len(shared) == SHARED  # every process got the same seq for each shared id
        worker_seqs = [[s for i, s, _ in r if not i.startswith("shared-")] for r in results]
        assert any(_overlap(a, b) for a in worker_seqs for b in worker_seqs if a is not b)

        stored = [event for chunk in store.scan("acme") for event, _ in chunk]
        assert [e.seq for e in stored] == list(range(total))
        assert dict(created) == {e.id: e.seq for e in stored}

        head = store.tree_head("acme")
        leaves = store.leaf_hashes("acme", 0, total)
        assert head.size == total
        assert leaves == [fake_leaf(e) for e in stored]
        assert tree.root_from_frontier(head.frontier, head.size) == merkle.root_from_leaf_hashes(
            leaves
        )

        class Reader:
            def nodes(self, keys: Sequence[tuple[int, int]]) -> Sequence[bytes]:
                return store.tree_nodes("acme", keys)

        for index in (0, total // 3, total - 1):
            proof = tree.inclusion_proof_from_nodes(Reader(), index, total)
            assert proof == merkle.inclusion_proof(index, total, leaves)
    finally:
        store.close()
