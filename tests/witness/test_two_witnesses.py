"""Two real witnesses behind a real Sealtrail: checkpoints come back cosigned, and a fork
or rollback that the attacker signs with the log's own key (having also wiped the
signer's record) is refused by both witnesses and caught by verification."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sealtrail.audit_log import AuditLog
from sealtrail.ledger import tree
from sealtrail.ledger.checkpoint import load_or_create_signer_key
from sealtrail.ledger.cosignature import cosignatures, parse_witness_vkey
from sealtrail.ledger.policy import Policy
from sealtrail.server.app import create_app
from sealtrail.settings import Settings
from sealtrail.verify import verify_bundle
from tests.client.live_server import SEALTRAIL, missing_cli
from tests.independent.tlog_proof_verifier import Rejected
from tests.independent.tlog_proof_verifier import verify as verify_proof_file
from tests.keys import quiet_api_key

from .servers import WitnessServer

pytestmark = pytest.mark.slow


@dataclass
class Deployment:
    tmp: Path
    settings: Settings
    witnesses: list[WitnessServer]
    log_vkey: str
    log: AuditLog
    client: TestClient
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def record(self, count: int, tag: str) -> None:
        events = [
            {"action": "member.invited", "actor": {"type": "user", "id": f"{tag}{i}"}}
            for i in range(count)
        ]
        response = self.client.post("/v1/events", json={"events": events}, headers=self.headers)
        assert response.status_code == 201, response.text

    def checkpoint(self) -> dict[str, object]:
        response = self.client.get("/v1/checkpoint", headers=self.headers)
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    def bundle(self) -> Path:
        response = self.client.get(
            "/v1/events/export", params={"format": "bundle"}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        path = self.tmp / "export.bundle"
        path.write_bytes(response.content)
        return path

    def restart(self) -> None:
        self.client.close()
        self.log.close()
        self.log = AuditLog.open(settings=self.settings)
        self.client = TestClient(create_app(self.log, self.settings))

    def verify_cli(self, bundle: Path, *witness_args: str) -> subprocess.CompletedProcess[str]:
        vkey = self.tmp / "log.vkey"
        vkey.write_text(self.log_vkey + "\n")
        return subprocess.run(
            [SEALTRAIL, "verify", str(bundle), "--key", str(vkey), *witness_args],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    if reason := missing_cli():
        pytest.fail(reason)
    key_file = tmp_path / "signing.key"
    log_vkey = load_or_create_signer_key(key_file).vkey
    witnesses = [
        WitnessServer(tmp_path / "w1", "witness.one.example/w1"),
        WitnessServer(tmp_path / "w2", "security.acme.example/w"),
    ]
    policy = tmp_path / "witnesses.policy"
    lines = [f"log {log_vkey}"]
    for number, witness in enumerate(witnesses, start=1):
        witness.trust("sealtrail/acme", log_vkey)
        witness.start()
        lines.append(f"witness w{number} {witness.vkey} {witness.url}")
    lines += ["group both all w1 w2", "quorum both"]
    policy.write_text("\n".join(lines) + "\n")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'log.db'}",
        signing_key_file=str(key_file),
        witness_policy_file=str(policy),
    )
    log = AuditLog.open(settings=settings)
    log.migrate()
    log.create_tenant("acme")
    key = quiet_api_key(log.database_url, "acme", "events:write,events:read")
    client = TestClient(create_app(log, settings))
    yield Deployment(tmp_path, settings, witnesses, log_vkey, log, client, key)
    client.close()
    log.close()
    for witness in witnesses:
        witness.stop()


def _policy(deployment: Deployment) -> Policy:
    return Policy.parse((deployment.tmp / "witnesses.policy").read_text())


def _verify(deployment: Deployment, bundle: Path, policy: Policy | None) -> list[str]:
    verifier = deployment.log.signer().verifier
    with bundle.open("rb") as lines:
        report = verify_bundle(lines, verifier, policy=policy)
    return [str(problem) for problem in report.problems]


def test_checkpoints_proofs_and_bundles_carry_both_cosignatures(deployment: Deployment) -> None:
    deployment.record(30, "a")
    first = deployment.checkpoint()
    witnesses = [parse_witness_vkey(w.vkey) for w in deployment.witnesses]
    note = str(first["checkpoint"])
    assert cosignatures(note, witnesses).names == {w.name for w in witnesses}
    deployment.record(20, "b")  # the witnesses now get old 30 and a consistency proof
    assert first["tree_size"] == 30
    second = deployment.checkpoint()
    assert second["tree_size"] == 50
    assert cosignatures(str(second["checkpoint"]), witnesses).names == {w.name for w in witnesses}

    bundle = deployment.bundle()
    assert _verify(deployment, bundle, _policy(deployment)) == []
    args = [a for w in deployment.witnesses for a in ("--witness", w.vkey)]
    assert deployment.verify_cli(bundle, *args, "--quorum", "2").returncode == 0
    policy_file = str(deployment.tmp / "witnesses.policy")
    assert deployment.verify_cli(bundle, "--policy", policy_file).returncode == 0

    proof_file = deployment.client.get(
        "/v1/events/" + _first_id(deployment) + "/proof", headers=deployment.headers
    ).text
    checked = verify_proof_file(
        proof_file,
        origin="sealtrail/acme",
        log_vkey=deployment.log_vkey,
        witness_vkeys=tuple(w.vkey for w in deployment.witnesses),
        quorum=2,
    )
    assert checked.witnesses == {w.name for w in witnesses}
    metrics = deployment.client.get("/metrics").text
    assert 'sealtrail_witness_submissions_total{outcome="cosigned",witness="w1"}' in metrics


def _first_id(deployment: Deployment) -> str:
    found = deployment.client.get(
        "/v1/events", params={"order": "asc", "limit": 1}, headers=deployment.headers
    )
    return str(found.json()["events"][0]["id"])


def _attack(deployment: Deployment, keep: int) -> None:
    """Truncate the tenant to ``keep`` events, rewrite its tree state, delete later
    checkpoints, and wipe the signer's own record: an attacker with disk and key access."""
    path = deployment.tmp / "log.db"
    db = sqlite3.connect(path, isolation_level=None)
    try:
        for table in ("events", "tree_nodes", "checkpoints"):
            for verb in ("update", "delete"):
                db.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_{verb}")
        leaves = [
            bytes(row[0])
            for row in db.execute(
                "SELECT leaf_hash FROM events WHERE tenant_id = 'acme' AND seq < ? ORDER BY seq",
                (keep,),
            )
        ]
        grown = tree.append([], 0, leaves)
        db.execute("DELETE FROM events WHERE tenant_id = 'acme' AND seq >= ?", (keep,))
        db.execute(
            "DELETE FROM tree_nodes WHERE tenant_id = 'acme' AND ((idx + 1) << level) > ?",
            (keep,),
        )
        db.execute("DELETE FROM checkpoints WHERE tenant_id = 'acme' AND tree_size > ?", (keep,))
        db.execute(
            "UPDATE tenants SET tree_size = ?, frontier = ? WHERE id = 'acme'",
            (keep, b"".join(grown.frontier)),
        )
    finally:
        db.close()
    shutil.rmtree(deployment.tmp / "signing.key.state")


@pytest.mark.parametrize("regrow", [0, 25], ids=["rollback", "fork"])
def test_a_history_rewritten_with_the_real_key_is_refused_and_caught(
    deployment: Deployment, regrow: int
) -> None:
    deployment.record(50, "honest")
    assert deployment.checkpoint()["tree_size"] == 50
    deployment.restart()
    _attack(deployment, 40)
    deployment.restart()
    if regrow:
        deployment.record(regrow, "forged")
    forged = deployment.checkpoint()  # signed with the real key: the signer's record is gone
    assert forged["tree_size"] == 40 + regrow
    witnesses = [parse_witness_vkey(w.vkey) for w in deployment.witnesses]
    assert cosignatures(str(forged["checkpoint"]), witnesses).names == set()
    for witness in deployment.witnesses:  # both still hold the honest size
        answer = witness.add_checkpoint(f"old 0\n\n{forged['checkpoint']}".encode())
        assert answer.status_code == 409
        assert answer.text == "50\n"
    outcomes = deployment.log.witness_submitter().outcomes  # type: ignore[union-attr]
    expected = "refused" if regrow else "ahead"
    assert outcomes[("w1", expected)] >= 1
    assert outcomes[("w2", expected)] >= 1

    bundle = deployment.bundle()
    assert _verify(deployment, bundle, None) == []  # the log's own key vouches for the fork
    problems = _verify(deployment, bundle, _policy(deployment))
    assert len(problems) == 1
    assert "lacks the witness quorum" in problems[0]
    args = [a for w in deployment.witnesses for a in ("--witness", w.vkey)]
    caught = deployment.verify_cli(bundle, *args)
    assert caught.returncode == 1
    assert "lacks the witness quorum" in caught.stdout
    proof_file = deployment.client.get(
        "/v1/events/" + _first_id(deployment) + "/proof", headers=deployment.headers
    ).text
    with pytest.raises(Rejected, match="0 witnesses cosigned, 1 needed"):
        verify_proof_file(
            proof_file,
            origin="sealtrail/acme",
            log_vkey=deployment.log_vkey,
            witness_vkeys=(deployment.witnesses[0].vkey,),
            quorum=1,
        )
