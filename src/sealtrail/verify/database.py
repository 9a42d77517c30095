"""Verifying a whole database, naming the events each piece of evidence points at.

Per tenant, in one pass over the rows in ``seq`` order:

* every row's leaf is rebuilt from its fields and salts and compared with the
  stored leaf hash — a changed field names its seq; a gap or a repeat names
  the seqs concerned;
* the tree is rebuilt from the rebuilt leaves, and every stored tree node
  (the complete subtrees proofs are served from) is compared with it;
* each signed checkpoint's root is compared with the rebuilt root at its size.

A pruned prefix (``sealtrail prune``) is not a gap: where the rows of a
recorded prune are gone, the leaf hashes kept for them stand in, so the whole
tree and every checkpoint are still rebuilt and checked. The prune itself must
be announced by the ``audit_log.events_pruned`` event it recorded in the log
(its seq is kept with the prune); rows missing below a prune the log does not
announce are reported as missing. Each pruned range is stated, never as a
problem.

Then each disagreement is explained by the smallest thing that explains it. A
stored node that disagrees with the rows while its stored parent agrees with
the rows is a bad node: the seqs whose inclusion proofs read it are named. A
node that disagrees with the rows while the stored nodes above it still agree
with each other means a row was changed *and its leaf hash rewritten* — the
node still holds the original, so the seqs under it are named (for the lowest
node, the two events of a pair: which of the two changed is not knowable). A
signed root that no stored data explains names the seqs between it and the
last checkpoint that still matches. Category and kind are not in the leaf and
are not checked: they are the service's classification at recording time, and
what the catalog says today must not decide whether an old event is genuine.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sealtrail.errors import LedgerError, NotFound
from sealtrail.events import format_timestamp
from sealtrail.ledger import merkle, tree
from sealtrail.ledger.checkpoint import open_checkpoint, origin_for_tenant
from sealtrail.ledger.note import Verifier, parse_vkey
from sealtrail.retention import PRUNED_ACTION, Prune
from sealtrail.store.base import EventStore
from sealtrail.verify import parallel
from sealtrail.verify.report import Report, runs
from sealtrail.verify.rows import UNHASHABLE, row_leaf

Progress = Callable[[int], None]
NodeKey = tuple[int, int]


def read_vkey(text: str) -> Verifier:
    """A verifier key from a vkey file's text; surrounding whitespace is ignored."""
    return parse_vkey(text.strip())


def verify_store(
    store: EventStore,
    vkey: str | Verifier | None,
    *,
    tenants: Iterable[str] | None = None,
    progress: Progress | None = None,
    workers: int = 1,
    range_size: int = parallel.RANGE_SIZE,
) -> Report:
    """Check every tenant's rows, tree nodes and checkpoints against each other.

    Without a verifier key the checkpoints' sizes and roots are used as unsigned
    claims, and the report says their signatures were not checked.

    With ``workers`` > 1, a tenant of at least two ranges of ``range_size`` (a
    power of two) events has its ranges' rows and subtrees checked by that many
    worker processes, each opening the store by its URL; this process combines
    them. The report is the one a single process gives, problem for problem and
    in the same order (``verify.parallel`` says how).
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if range_size < 2 or range_size & (range_size - 1):
        raise ValueError(f"range_size must be a power of two, not {range_size}")
    verifier = read_vkey(vkey) if isinstance(vkey, str) else vkey
    report = Report()
    with parallel.Pool(store, workers) as pool:
        for tenant_id in tenants or [t.id for t in store.list_tenants()]:
            report.tenants.append(tenant_id)
            _Tenant(store, verifier, tenant_id, report).verify(progress, pool, range_size)
    return report


@dataclass
class _Tenant:
    store: EventStore
    verifier: Verifier | None
    tenant_id: str
    report: Report
    checkpoints: dict[int, bytes] = field(default_factory=dict)
    rebuilt_roots: dict[int, bytes] = field(default_factory=dict)
    bad_nodes: dict[NodeKey, bytes | None] = field(default_factory=dict)
    size: int = 0  # rows seen: the next seq expected
    prunes: list[Prune] = field(default_factory=list)
    pruned_below: int = 0
    kept_leaves: int = 0  # pruned events stood in for by their kept leaf hashes
    announced: dict[int, tuple[object, object]] = field(default_factory=dict)

    def add(self, seq: int | None, message: str, last_seq: int | None = None) -> None:
        self.report.add(self.tenant_id, seq, message, last_seq)

    def verify(self, progress: Progress | None, pool: parallel.Pool, range_size: int) -> None:
        self._open_checkpoints()
        self.prunes = self.store.prunes(self.tenant_id)
        self.pruned_below = self.prunes[-1].below if self.prunes else 0
        frontier: list[bytes] = []
        head_size = self.store.tree_head(self.tenant_id).size
        if pool.workers > 1 and head_size >= 2 * range_size:
            frontier = self._ranges(frontier, head_size, range_size, pool, progress)
            frontier = self._pass(frontier, head_size, None, progress)  # rows past the head
        else:
            frontier = self._pass(frontier, 0, None, progress)
        if self.size < self.pruned_below:  # no row follows the pruned range
            start = self.size
            leaves = self._kept(start, self.pruned_below)
            self.size = self.pruned_below
            frontier = self._grow(frontier, leaves)
        self._check_prunes()
        if 0 in self.checkpoints:  # every log starts as the empty tree
            self.rebuilt_roots[0] = merkle.EMPTY_ROOT
        self._explain_nodes()
        self._explain_roots()
        self._check_head(frontier)
        self._state_what_was_proven()

    def _pass(
        self, frontier: list[bytes], start: int, stop: int | None, progress: Progress | None
    ) -> list[bytes]:
        """The rows from ``start`` up to ``stop``, one by one, in this process."""
        for chunk in self.store.scan_rows(self.tenant_id, start, stop):
            leaves = self._leaves(chunk)
            frontier = self._grow(frontier, leaves)
            self.report.events += len(chunk)
            if progress:
                progress(len(chunk))
        return frontier

    def _ranges(
        self,
        frontier: list[bytes],
        size: int,
        range_size: int,
        pool: parallel.Pool,
        progress: Progress | None,
    ) -> list[bytes]:
        """Seq 0..size-1 in aligned ranges checked by the workers, combined in seq order.

        A range whose rows are exactly its seqs is taken as the workers found it:
        what a single pass reports for such rows is a problem per changed row, in
        seq order, and the nodes of its complete subtrees — all of which a worker
        computes alone. The frontier before an aligned range holds only nodes
        above the range, so the range's root joins it as one node, and a
        checkpoint inside the range has the frontier before it plus the range's
        own. Any other range (a gap, a repeat, a pruned stretch) is read again
        here by the single pass, from the state the ranges before it left.
        """
        level = range_size.bit_length() - 1
        ranges = [(a, min(a + range_size, size)) for a in range(0, size, range_size)]
        jobs = [(a, b, tuple(c for c in sorted(self.checkpoints) if a < c < b)) for a, b in ranges]
        for (a, b, _), found in zip(jobs, pool.ranges(self.tenant_id, jobs), strict=True):
            if found is None:  # not exactly seq a..b-1
                frontier = self._pass(frontier, a, b, progress)
                continue
            if self.size < a:  # what the row at seq a would have found missing before it
                gap = self._fill_to(a)
                self.size = a
                frontier = self._grow(frontier, gap)
            for seq, message in found.problems:
                self.add(seq, message)
            self.announced.update(found.announced)
            self.bad_nodes.update(found.bad_nodes)
            for c, local in found.frontiers.items():
                self.rebuilt_roots[c] = tree.root_from_frontier([*frontier, *local], c)
            if b - a == range_size:
                frontier = self._push(frontier, level, a >> level, found.frontiers_at_stop)
            else:  # the last range: its complete subtrees all lie below the range's level
                frontier = [*frontier, *found.frontiers_at_stop]
            self.size = b
            if b in self.checkpoints:
                self.rebuilt_roots[b] = tree.root_from_frontier(frontier, b)
            self.report.events += b - a
            if progress:
                progress(b - a)
        return frontier

    def _push(
        self, frontier: list[bytes], level: int, index: int, node: Sequence[bytes]
    ) -> list[bytes]:
        """Append the complete subtree (level, index); compare the nodes it completes."""
        edge = list(frontier)
        (hashed,) = node
        new_nodes: list[tuple[int, int, bytes]] = []
        while index & 1:
            hashed = merkle.hash_children(edge.pop(), hashed)
            level += 1
            index >>= 1
            new_nodes.append((level, index, hashed))
        edge.append(hashed)
        self._compare_nodes(new_nodes)
        return edge

    # -- the pass over the rows ---------------------------------------------------------
    def _open_checkpoints(self) -> None:
        origin = origin_for_tenant(self.tenant_id)
        for stored in self.store.checkpoints(self.tenant_id):
            if self.verifier is None:
                self.checkpoints[stored.tree_size] = stored.root_hash
                continue
            try:
                checkpoint, _ = open_checkpoint(
                    stored.note, origin=origin, log_verifier=self.verifier
                )
            except LedgerError as exc:
                self.add(
                    None,
                    f"the checkpoint of size {stored.tree_size} does not verify: {exc.message}",
                )
                continue
            if checkpoint.size != stored.tree_size or checkpoint.root_hash != stored.root_hash:
                self.add(
                    None,
                    f"the checkpoint row of size {stored.tree_size} disagrees with its signed note",
                )
            self.checkpoints[checkpoint.size] = checkpoint.root_hash
            self.report.checkpoints += 1

    def _leaves(self, rows: Sequence[Sequence[Any]]) -> list[bytes]:
        leaves: list[bytes] = []
        for row in rows:
            seq = row[1]
            if seq < self.size:
                self.add(seq, "appears more than once")
                continue
            if seq > self.size:
                leaves.extend(self._fill_to(seq))
            if row[3] == PRUNED_ACTION:
                announced = parallel.announcement(row)
                if announced is not None:
                    self.announced[seq] = announced
            mine, problem = row_leaf(row)
            if problem is not None:
                self.add(seq, problem)
            leaves.append(mine)
            self.size = seq + 1
        return leaves

    def _fill_to(self, seq: int) -> list[bytes]:
        """Stand-ins for seq ``self.size``..``seq - 1``: kept leaves where pruned, else missing."""
        leaves: list[bytes] = []
        kept_to = min(seq, max(self.pruned_below, self.size))
        leaves.extend(self._kept(self.size, kept_to))
        if seq > kept_to:
            self.add(
                kept_to,
                "is missing" if seq == kept_to + 1 else "are missing",
                seq - 1,
            )
            leaves.extend([UNHASHABLE] * (seq - kept_to))
        return leaves

    def _kept(self, start: int, stop: int) -> list[bytes]:
        """The kept leaf hashes of pruned seqs ``start``..``stop - 1``; a missing one is named."""
        out: list[bytes] = []
        lost: list[int] = []
        for lo in range(start, stop, 5000):
            keys = [(0, seq) for seq in range(lo, min(lo + 5000, stop))]
            for (_, seq), found in zip(keys, self._stored(keys), strict=True):
                if found is None:
                    lost.append(seq)
                out.append(found if found is not None else UNHASHABLE)
        for first, last in runs(lost):
            self.add(
                first,
                "pruned, but the leaf hash pruning keeps is missing: proofs over it fail",
                last,
            )
        self.kept_leaves += stop - start
        return out

    def _check_prunes(self) -> None:
        """Each prune must be announced by the event it recorded, where that still exists."""
        for prune in self.prunes:
            last = prune.below - 1
            if prune.record_seq < self.pruned_below and prune.record_seq not in self.announced:
                announced = "announced by a later-pruned event"  # pruned by a later prune
            elif self.announced.get(prune.record_seq) == (prune.first_seq, last):
                announced = f"announced by seq {prune.record_seq} ({PRUNED_ACTION})"
            else:
                self.add(
                    prune.first_seq,
                    f"are recorded as pruned, but seq {prune.record_seq} of the log is not the "
                    f"{PRUNED_ACTION} event announcing it: the rows were removed unannounced",
                    last,
                )
                continue
            state = "" if prune.finished_at is not None else "; deletion not finished yet"
            self.report.prune(
                self.tenant_id,
                f"events {prune.first_seq}..{last} pruned on "
                f"{format_timestamp(prune.created_at)} under the retention policy, "
                f"{announced}{state}",
            )

    def _grow(self, frontier: list[bytes], leaves: list[bytes]) -> list[bytes]:
        """Append leaves, stopping at each checkpoint size, and compare the new nodes."""
        size = self.size - len(leaves)
        end = self.size
        position = 0
        new_nodes: list[tuple[int, int, bytes]] = []
        while position < len(leaves):
            boundaries = [c for c in self.checkpoints if size < c <= end]
            stop = min(boundaries) - (end - len(leaves)) if boundaries else len(leaves)
            grown = tree.append(frontier, size, leaves[position:stop])
            new_nodes.extend(node for node in grown.new_nodes if node[0] > 0)
            frontier, size, position = grown.frontier, grown.size, stop
            if size in self.checkpoints:
                self.rebuilt_roots[size] = grown.root
        self._compare_nodes(new_nodes)
        return frontier

    def _compare_nodes(self, nodes: Sequence[tuple[int, int, bytes]]) -> None:
        """Compare new nodes (level ≥ 1) with the stored ones, read a level's span at a time."""
        by_level: dict[int, list[tuple[int, bytes]]] = {}
        for level, index, node in nodes:
            by_level.setdefault(level, []).append((index, node))
        for level, rebuilt in by_level.items():
            low = min(index for index, _ in rebuilt)
            high = max(index for index, _ in rebuilt)
            theirs: dict[int, bytes | None]
            if high - low >= 2 * len(rebuilt):  # scattered: ask for each
                stored = self._stored([(level, index) for index, _ in rebuilt])
                theirs = dict(zip((index for index, _ in rebuilt), stored, strict=True))
            else:
                theirs = dict(self.store.tree_node_range(self.tenant_id, level, low, high + 1))
            for index, node in rebuilt:
                kept = theirs.get(index)
                if kept != node:
                    self.bad_nodes[(level, index)] = kept

    def _stored(self, keys: Sequence[NodeKey]) -> list[bytes | None]:
        """Stored node hashes, None for one that is missing."""
        try:
            return list(self.store.tree_nodes(self.tenant_id, keys))
        except NotFound:
            out: list[bytes | None] = []
            for key in keys:
                try:
                    out.append(self.store.tree_nodes(self.tenant_id, [key])[0])
                except NotFound:
                    out.append(None)
            return out

    # -- explaining what disagrees --------------------------------------------------------
    def _named(self) -> list[tuple[int, int]]:
        """The seq runs already named for this tenant, sorted."""
        return sorted(
            (p.seq, p.seq if p.last_seq is None else p.last_seq)
            for p in self.report.problems
            if p.tenant_id == self.tenant_id and p.seq is not None
        )

    @staticmethod
    def _touches(named: list[tuple[int, int]], first: int, last: int) -> bool:
        """Whether any named run overlaps ``first..last``."""
        position = bisect_left(named, (first + 1, -1))
        if position and named[position - 1][1] >= first:
            return True
        return position < len(named) and named[position][0] <= last

    def _explain_nodes(self) -> None:
        named = self._named()
        unexplained = {
            key
            for key in self.bad_nodes
            if not self._touches(named, key[1] << key[0], ((key[1] + 1) << key[0]) - 1)
        }
        lowest = sorted(
            key
            for key in unexplained
            if key[0] == 1
            or not {(key[0] - 1, 2 * key[1]), (key[0] - 1, 2 * key[1] + 1)} & unexplained
        )
        for level, index in lowest:
            first, last = index << level, ((index + 1) << level) - 1
            if self._node_holds_the_original(level, index):
                self.add(
                    first,
                    f"one of these {last - first + 1} events was changed and its stored leaf "
                    "hash rewritten to match: the stored tree node over them still holds the "
                    "original",
                    last,
                )
                continue
            state = "missing" if self.bad_nodes[(level, index)] is None else "wrong"
            where = f"the stored tree node (level {level}, index {index}) over seq {first}..{last}"
            reading = tree.proofs_reading(level, index, self.size)
            if not reading:
                self.add(None, f"{where} is {state}; no proof at tree size {self.size} reads it")
            for start, end in reading:
                self.add(
                    start,
                    f"inclusion proofs at tree size {self.size} fail: {where} is {state}",
                    end - 1,
                )

    def _node_holds_the_original(self, level: int, index: int) -> bool:
        """Whether a node that disagrees with the rows agrees with the stored tree above it."""
        mine = self.bad_nodes[(level, index)]
        if mine is None:
            return False
        parent = (level + 1, index >> 1)
        if ((parent[1] + 1) << parent[0]) <= self.size:
            sibling, stored_parent = self._stored([(level, index ^ 1), parent])
            if sibling is None or stored_parent is None:
                return False
            pair = (mine, sibling) if index % 2 == 0 else (sibling, mine)
            return merkle.hash_children(*pair) == stored_parent
        head = self.store.tree_head(self.tenant_id)
        keys = tree.frontier_keys(head.size)
        return (level, index) in keys and head.frontier[keys.index((level, index))] == mine

    def _explain_roots(self) -> None:
        """Signed roots that the rows do not rebuild and nothing named explains."""
        good = 0
        for size in sorted(self.checkpoints):
            if size > self.size:
                continue
            if self.rebuilt_roots.get(size) == self.checkpoints[size]:
                good = size
                continue
            if size == 0:
                self.add(None, "the signed empty tree has a wrong root")
                continue
            named = self._named()
            if named and named[0][0] < size:
                continue
            self.add(
                good,
                f"an event here was changed along with its leaf hash and every tree node above "
                f"it: only the signed checkpoint of size {size} disagrees",
                size - 1,
            )
        beyond = [size for size in self.checkpoints if size > self.size]
        if beyond:
            largest = max(beyond)
            self.add(
                self.size,
                f"were removed: a signed checkpoint covers {largest} events, the rows end at "
                f"{self.size}",
                largest - 1,
            )

    def _check_head(self, frontier: list[bytes]) -> None:
        head = self.store.tree_head(self.tenant_id)
        covered = max([self.size, *self.checkpoints])
        if head.size > covered:
            self.add(
                covered,
                f"are missing: the tree head counts {head.size} events, the rows end at "
                f"{self.size}",
                head.size - 1,
            )
        elif head.size < self.size and not set(range(head.size, self.size)) <= set(
            self.report.named_seqs(self.tenant_id)
        ):
            self.add(
                head.size,
                f"are not in the tree: the tree head counts only {head.size} events",
                self.size - 1,
            )
        elif (
            head.size == self.size
            and tuple(head.frontier) != tuple(frontier)
            and not any(p.tenant_id == self.tenant_id for p in self.report.problems)
        ):
            self.add(
                None,
                "the stored tree head disagrees with the rows: the next checkpoint would not "
                "extend the signed ones",
            )

    def _state_what_was_proven(self) -> None:
        report, tenant_id = self.report, self.tenant_id
        signed = "signed " if self.verifier is not None else ""
        if self.verifier is None:
            report.cannot_prove(
                tenant_id,
                "checkpoint signatures were not checked (no verifier key): their sizes and roots "
                "were used as unsigned claims",
            )
        newest = max(self.checkpoints, default=None)
        if newest is None:
            if self.size:
                report.warn(
                    tenant_id,
                    f"no checkpoint: nothing signed vouches for its {self.size} events (sign one "
                    "with `sealtrail checkpoint`)",
                )
        else:
            report.prove(
                tenant_id,
                f"the rows rebuild the root of every {signed}checkpoint "
                f"({len(self.checkpoints)}, newest of size {newest}) they do not contradict",
            )
            if newest < self.size:
                report.cannot_prove(
                    tenant_id,
                    f"seq {newest}..{self.size - 1} are newer than the newest checkpoint: no "
                    "signature covers them yet",
                )
        rows = f"{self.size - self.kept_leaves} rows" + (
            f" and {self.kept_leaves} kept leaf hashes of pruned events" if self.kept_leaves else ""
        )
        report.prove(
            tenant_id,
            f"{rows}: each row hashes to its stored leaf and every stored tree node "
            "agrees with them, except where a problem names it",
        )
        report.cannot_prove(
            tenant_id,
            "category and kind are not in the leaf: they are the service's classification "
            "when the event was recorded, and are not verified",
        )
        report.cannot_prove(
            tenant_id,
            "that this database is not an older copy (a restored backup, or a rollback "
            "re-signed with the key): compare with a checkpoint kept outside it",
        )


__all__ = ["read_vkey", "verify_store"]
