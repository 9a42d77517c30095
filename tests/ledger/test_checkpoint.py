"""CheckpointSigner refuses forks; the signing key file is private and stable."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from sealtrail.errors import ConfigurationError, InconsistentTree, NoteError
from sealtrail.ledger.checkpoint import (
    DEFAULT_KEY_NAME,
    Checkpoint,
    CheckpointSigner,
    load_or_create_signer_key,
    open_checkpoint,
    origin_for_tenant,
)
from sealtrail.ledger.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    hash_leaf,
    root_from_leaf_hashes,
)
from sealtrail.ledger.note import Signer, open_note, parse_vkey

LEAVES = [hash_leaf(f"event {i}".encode()) for i in range(40)]
SIGNER = CheckpointSigner(Signer("sealtrail", bytes(range(32))))
ORIGIN = origin_for_tenant("acme")


def _head(size: int, leaves: list[bytes] = LEAVES, origin: str = ORIGIN) -> Checkpoint:
    return Checkpoint(origin, size, root_from_leaf_hashes(leaves[:size]))


def test_origin_names_the_tenant() -> None:
    assert origin_for_tenant("acme") == "sealtrail/acme"
    for bad in ("", "a\nb", "tab\there"):
        with pytest.raises(NoteError):
            origin_for_tenant(bad)


def test_one_vkey_verifies_every_tenant() -> None:
    vkey = parse_vkey(SIGNER.vkey)
    assert vkey.name == DEFAULT_KEY_NAME
    for tenant in ("acme", "globex", "initech"):
        origin = origin_for_tenant(tenant)
        signed = SIGNER.sign(_head(3, origin=origin), previous=None)
        checkpoint, _ = open_checkpoint(signed, origin=origin, log_verifier=vkey)
        assert checkpoint == _head(3, origin=origin)
        with pytest.raises(NoteError, match="origin"):
            open_checkpoint(signed, origin=origin_for_tenant("other"), log_verifier=vkey)


def test_signs_an_extension_given_its_proof() -> None:
    signed = SIGNER.sign(_head(20), previous=_head(13), proof=consistency_proof(13, 20, LEAVES))
    assert SIGNER.open(signed, ORIGIN) == _head(20)


def test_fetches_a_proof_only_when_one_is_needed() -> None:
    asked: list[tuple[int, int]] = []

    def prove(old: int, new: int) -> list[bytes]:
        asked.append((old, new))
        return consistency_proof(old, new, LEAVES)

    SIGNER.sign(_head(0), previous=None, proof=prove)
    SIGNER.sign(_head(7), previous=_head(0), proof=prove)
    SIGNER.sign(_head(7), previous=_head(7), proof=prove)
    SIGNER.sign(_head(31), previous=_head(7), proof=prove)
    assert asked == [(7, 31)]


def test_refuses_a_rewritten_history() -> None:
    forged = list(LEAVES)
    forged[5] = hash_leaf(b"rewritten")
    head = _head(20, forged)
    with pytest.raises(InconsistentTree, match="not consistent"):
        SIGNER.sign(head, previous=_head(13), proof=consistency_proof(13, 20, forged))
    with pytest.raises(InconsistentTree):
        SIGNER.sign(head, previous=_head(13), proof=lambda a, b: consistency_proof(a, b, forged))
    with pytest.raises(InconsistentTree, match="not consistent"):
        SIGNER.sign(_head(13, forged), previous=_head(13))  # same size, other root


def test_refuses_shrinking_wrong_origin_and_bad_roots() -> None:
    with pytest.raises(InconsistentTree, match="smaller"):
        SIGNER.sign(_head(12), previous=_head(13))
    with pytest.raises(InconsistentTree, match="cannot follow"):
        SIGNER.sign(_head(13, origin="sealtrail/globex"), previous=_head(13))
    with pytest.raises(InconsistentTree, match="empty root"):
        SIGNER.sign(Checkpoint(ORIGIN, 0, LEAVES[0]), previous=None)
    with pytest.raises(InconsistentTree, match="32 bytes"):
        SIGNER.sign(Checkpoint(ORIGIN, 1, b"short"), previous=None)
    assert SIGNER.open(SIGNER.sign(Checkpoint(ORIGIN, 0, EMPTY_ROOT), previous=None), ORIGIN)


def test_open_refuses_another_logs_checkpoint() -> None:
    other = CheckpointSigner(Signer("sealtrail", bytes(32)))
    with pytest.raises(NoteError, match="no verifiable signatures"):
        SIGNER.open(other.sign(_head(3), previous=None), ORIGIN)


# -- the key file ---------------------------------------------------------------------


def test_key_file_is_created_private_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "sealtrail-signing.key"
    signer = load_or_create_signer_key(path, "sealtrail")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_text()
    assert content.startswith(f"PRIVATE+KEY+sealtrail+{signer.key_id:08x}+")
    assert content == signer.skey + "\n"
    again = load_or_create_signer_key(path, "sealtrail")
    assert again.vkey == signer.vkey
    assert path.read_text() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temp file left
    assert "PRIVATE" not in repr(signer)
    note = CheckpointSigner(again).sign(_head(2), previous=None)
    open_note(note, [parse_vkey(signer.vkey)])


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_key_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "key"
    load_or_create_signer_key(path)
    os.chmod(path, mode)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_or_create_signer_key(path)


def test_key_file_problems_are_named(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage"
    garbage.write_text("not a key\n")
    garbage.chmod(0o600)
    with pytest.raises(ConfigurationError, match="C2SP signer key"):
        load_or_create_signer_key(garbage)
    assert "not a key" in garbage.read_text()  # never overwritten

    named = tmp_path / "named"
    load_or_create_signer_key(named, "other-name")
    with pytest.raises(ConfigurationError, match="'other-name', not 'sealtrail'"):
        load_or_create_signer_key(named, "sealtrail")

    with pytest.raises(ConfigurationError, match="does not exist"):
        load_or_create_signer_key(tmp_path / "missing" / "key")
    with pytest.raises(ConfigurationError, match="regular file"):
        load_or_create_signer_key(tmp_path)


def test_concurrent_first_starts_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "key"
    results: list[str] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        results.append(load_or_create_signer_key(path).vkey)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert len(set(results)) == 1
