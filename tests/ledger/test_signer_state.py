"""The signer's own record beside its key: what it refuses, and sharing it between processes."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import stat
from collections.abc import Sequence
from pathlib import Path

import pytest

from sealtrail.errors import InconsistentTree, NotFound
from sealtrail.ledger import merkle
from sealtrail.ledger.checkpoint import Checkpoint, CheckpointSigner, ProofSource
from sealtrail.ledger.note import Signer
from sealtrail.ledger.signer_state import SignerState, origin_hash

ORIGIN = "sealtrail/acme"
SEED = bytes(range(32))


def leaves(count: int, tag: str = "") -> list[bytes]:
    return [merkle.hash_leaf(f"{tag}event {i}".encode()) for i in range(count)]


def head(hashes: Sequence[bytes], size: int) -> Checkpoint:
    return Checkpoint(ORIGIN, size, merkle.root_from_leaf_hashes(hashes[:size]))


def proofs(hashes: Sequence[bytes]) -> ProofSource:
    def source(old: int, new: int) -> list[bytes]:
        if new > len(hashes):
            raise NotFound(f"no tree node beyond leaf {len(hashes)}")
        return merkle.consistency_proof(old, new, hashes)

    return source


def signer_at(directory: Path) -> CheckpointSigner:
    return CheckpointSigner(Signer("sealtrail", SEED), SignerState(directory))


def size_of(signer: CheckpointSigner, note: str) -> int:
    return signer.open(note, ORIGIN).size


def test_the_state_is_the_last_signed_note_in_a_private_directory(tmp_path: Path) -> None:
    signer = signer_at(tmp_path / "state")
    hashes = leaves(10)
    note = signer.sign(head(hashes, 10), previous=None, proof=proofs(hashes))
    path = tmp_path / "state" / hashlib.sha256(ORIGIN.encode()).hexdigest()
    assert path.read_text() == note
    assert origin_hash(ORIGIN) == path.name
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    kept = signer.last_signed(ORIGIN)
    assert kept is not None
    assert kept == (head(hashes, 10), note)


def test_a_restarted_signer_refuses_a_shorter_tree_it_cannot_prove(tmp_path: Path) -> None:
    hashes = leaves(100)
    signer_at(tmp_path).sign(head(hashes, 100), previous=None, proof=proofs(hashes))
    restarted = signer_at(tmp_path)
    truncated = hashes[:50]  # the database lost its newest 50 events and their nodes
    with pytest.raises(InconsistentTree, match="already signed 100 events") as refused:
        restarted.sign(head(truncated, 50), previous=None, proof=proofs(truncated))
    assert "rolled back" in refused.value.message


def test_a_restarted_signer_refuses_a_rewritten_tree_of_any_size(tmp_path: Path) -> None:
    hashes = leaves(100)
    signer_at(tmp_path).sign(head(hashes, 100), previous=None, proof=proofs(hashes))
    forged = hashes[:60] + leaves(60, "forged ")
    restarted = signer_at(tmp_path)
    for size in (100, 120):
        with pytest.raises(InconsistentTree):
            restarted.sign(head(forged, size), previous=None, proof=proofs(forged))
    kept = restarted.last_signed(ORIGIN)
    assert kept is not None
    assert kept[0].size == 100


def test_an_honest_extension_is_signed_and_recorded(tmp_path: Path) -> None:
    hashes = leaves(300)
    signer = signer_at(tmp_path)
    signer.sign(head(hashes, 100), previous=None, proof=proofs(hashes))
    note = signer_at(tmp_path).sign(head(hashes, 300), previous=None, proof=proofs(hashes))
    assert size_of(signer, note) == 300
    kept = signer.last_signed(ORIGIN)
    assert kept is not None
    assert kept[1] == note


def test_a_prefix_of_what_was_signed_gets_the_newer_note(tmp_path: Path) -> None:
    """Another process signed a larger tree meanwhile: no refusal, and no new signature."""
    hashes = leaves(200)
    newer = signer_at(tmp_path).sign(head(hashes, 200), previous=None, proof=proofs(hashes))
    again = signer_at(tmp_path).sign(head(hashes, 150), previous=None, proof=proofs(hashes))
    assert again == newer


def test_a_state_file_that_does_not_verify_stops_signing(tmp_path: Path) -> None:
    hashes = leaves(5)
    signer = signer_at(tmp_path)
    signer.sign(head(hashes, 5), previous=None, proof=proofs(hashes))
    other = CheckpointSigner(Signer("sealtrail", bytes(32)))
    (tmp_path / origin_hash(ORIGIN)).write_text(other.sign(head(hashes, 2), previous=None))
    with pytest.raises(InconsistentTree, match="does not hold a checkpoint this key signed"):
        signer.sign(head(hashes, 5), previous=None, proof=proofs(hashes))


def test_cosignatures_are_kept_only_for_the_current_checkpoint(tmp_path: Path) -> None:
    hashes = leaves(8)
    signer = signer_at(tmp_path)
    note = signer.sign(head(hashes, 4), previous=None, proof=proofs(hashes))
    witness_line = "\u2014 witness.example/w1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
    assert signer.keep_cosigned(note + witness_line, ORIGIN)
    kept = signer.last_signed(ORIGIN)
    assert kept is not None
    assert kept[1].endswith(witness_line)
    signer.sign(head(hashes, 8), previous=None, proof=proofs(hashes))
    assert not signer.keep_cosigned(note + witness_line, ORIGIN)


def _sign_sizes(directory: str, sizes: list[int], results: multiprocessing.Queue[object]) -> None:
    hashes = leaves(400)
    signer = signer_at(Path(directory))
    out: list[tuple[int, int | str]] = []
    for size in sizes:
        try:
            note = signer.sign(head(hashes, size), previous=None, proof=proofs(hashes))
            out.append((size, size_of(signer, note)))
        except InconsistentTree as exc:
            out.append((size, exc.message))
    results.put(out)


def test_processes_sharing_the_state_never_refuse_an_honest_log(tmp_path: Path) -> None:
    """Four processes sign sizes of one growing log in any order; the lock keeps the state
    consistent, each gets a note at least as large as it asked, and the largest wins."""
    rng = random.Random(7)
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[object] = context.Queue()
    plans = [sorted(rng.sample(range(1, 401), 25)) for _ in range(4)]
    workers = [
        context.Process(target=_sign_sizes, args=(str(tmp_path), plan, results)) for plan in plans
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    pairs = [pair for outcome in outcomes for pair in outcome]  # type: ignore[attr-defined]
    assert len(pairs) == 100
    for asked, got in pairs:
        assert isinstance(got, int), got
        assert got >= asked
    kept = signer_at(tmp_path).last_signed(ORIGIN)
    assert kept is not None
    assert kept[0].size == max(max(plan) for plan in plans)
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
