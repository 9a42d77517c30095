"""``sealtrail witness serve`` answers add-checkpoint as c2sp.org/tlog-witness says."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from sealtrail.ledger import merkle
from sealtrail.ledger.checkpoint import Checkpoint
from sealtrail.ledger.cosignature import cosignatures, parse_witness_vkey
from sealtrail.ledger.note import Signer, sign_note
from sealtrail.witness.protocol import add_checkpoint_body
from tests.client.live_server import missing_cli

from .servers import WitnessServer

pytestmark = pytest.mark.slow

ORIGIN = "sealtrail/acme"
LOG = Signer("sealtrail", bytes(range(32)))
LEAVES = [merkle.hash_leaf(f"e{i}".encode()) for i in range(64)]


def note(size: int, leaves: list[bytes] = LEAVES, origin: str = ORIGIN, key: Signer = LOG) -> str:
    body = Checkpoint(origin, size, merkle.root_from_leaf_hashes(leaves[:size])).to_text()
    return sign_note(body, key)


def proof(old: int, new: int, leaves: list[bytes] = LEAVES) -> list[bytes]:
    return merkle.consistency_proof(old, new, leaves)


@pytest.fixture
def witness(tmp_path: Path) -> Iterator[WitnessServer]:
    if reason := missing_cli():
        pytest.fail(reason)
    server = WitnessServer(tmp_path, "witness.example/w1")
    server.trust(ORIGIN, LOG.vkey)
    server.start()
    yield server
    server.stop()


def test_cosigns_growth_and_refuses_everything_else(witness: WitnessServer) -> None:
    verifier = parse_witness_vkey(witness.vkey)
    first = witness.add_checkpoint(add_checkpoint_body(0, [], note(10)))
    assert first.status_code == 200, first.text
    assert first.text.startswith("\u2014 witness.example/w1 ")
    cosigned = cosignatures(note(10) + first.text, [verifier])
    assert cosigned.names == {"witness.example/w1"}
    assert next(iter(cosigned.timestamps.values())) > 1_700_000_000

    # 409: the old size is not the witness's, with its size as text/x.tlog.size
    stale = witness.add_checkpoint(add_checkpoint_body(0, [], note(20)))
    assert stale.status_code == 409
    assert stale.headers["content-type"].startswith("text/x.tlog.size")
    assert stale.text == "10\n"
    # 422: a proof that does not verify, a different root at the same size
    forked = LEAVES[:5] + [merkle.hash_leaf(f"forged {i}".encode()) for i in range(59)]
    bad = witness.add_checkpoint(add_checkpoint_body(10, proof(10, 20, forked), note(20, forked)))
    assert bad.status_code == 422, bad.text
    same = witness.add_checkpoint(add_checkpoint_body(10, [], note(10, forked)))
    assert same.status_code == 422
    # 400: old size above the checkpoint size, malformed bodies
    assert witness.add_checkpoint(add_checkpoint_body(10, [], note(5))).status_code == 400
    assert witness.add_checkpoint(b"old 01\n\n" + note(10).encode()).status_code == 400
    assert witness.add_checkpoint(b"not a request").status_code == 400
    # 403: not signed by the trusted key; 404: unknown origin
    stranger = Signer("sealtrail", bytes(32))
    assert (
        witness.add_checkpoint(add_checkpoint_body(10, [], note(10, key=stranger))).status_code
        == 403
    )
    assert (
        witness.add_checkpoint(add_checkpoint_body(0, [], note(3, origin="other"))).status_code
        == 404
    )
    # a consistent extension is cosigned, and the same size again too
    grown = witness.add_checkpoint(add_checkpoint_body(10, proof(10, 20), note(20)))
    assert grown.status_code == 200, grown.text
    again = witness.add_checkpoint(add_checkpoint_body(20, [], note(20)))
    assert again.status_code == 200
    # refused requests that carried the log's valid signature are kept as evidence
    assert witness.add_checkpoint(add_checkpoint_body(10, [], note(10))).text == "20\n"


def test_a_restarted_witness_remembers_and_serves_its_checkpoint(witness: WitnessServer) -> None:
    assert witness.add_checkpoint(add_checkpoint_body(0, [], note(32))).status_code == 200
    witness.stop()
    witness.start()
    assert witness.add_checkpoint(add_checkpoint_body(0, [], note(16))).text == "32\n"

    hashed = hashlib.sha256(ORIGIN.encode()).hexdigest()
    served = httpx.get(f"{witness.url}/{hashed}/checkpoint", timeout=10)
    assert served.status_code == 200
    assert served.text.startswith(note(32).split("\n\n")[0])
    verifier = parse_witness_vkey(witness.vkey)
    assert cosignatures(served.text, [verifier]).names == {"witness.example/w1"}
    assert httpx.get(f"{witness.url}/{'a' * 64}/checkpoint", timeout=10).status_code == 404


def test_concurrent_submissions_never_roll_the_witness_back(witness: WitnessServer) -> None:
    """Many clients race from size 0 to different sizes: exactly one wins each round, and
    the witness's size only grows (the check and the update are one transaction)."""
    sizes = [8, 40, 16, 64, 24, 48, 32, 56]

    def submit(size: int) -> int:
        return witness.add_checkpoint(add_checkpoint_body(0, [], note(size))).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(submit, sizes))
    assert statuses.count(200) == 1
    assert statuses.count(409) == 7
    won = sizes[statuses.index(200)]
    assert witness.add_checkpoint(add_checkpoint_body(0, [], note(1))).text == f"{won}\n"
