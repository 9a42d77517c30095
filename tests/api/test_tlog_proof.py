"""``GET /v1/events/{id}/proof?format=tlog-proof`` and ``sealtrail proof``: files an outsider
verifies with code that shares nothing with Sealtrail (tests/independent)."""

from __future__ import annotations

import pytest

from sealtrail.ledger.proof_file import TlogProof
from tests.independent.tlog_proof_verifier import Rejected, verify

from .conftest import Api, event


def _proof(api: Api, event_id: str) -> str:
    response = api.get(f"/v1/events/{event_id}/proof", format="tlog-proof")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert f'filename="{event_id}.tlog-proof"' in response.headers["content-disposition"]
    text: str = response.text
    return text


def test_every_event_proof_verifies_independently(api: Api) -> None:
    ids = [f"e{i}" for i in range(13)]
    assert api.post({"events": [event(i) for i in ids]}).status_code == 201
    vkey = api.get("/v1/checkpoint").json()["verifier_key"]
    for seq, event_id in enumerate(ids):
        text = _proof(api, event_id)
        assert text.startswith("c2sp.org/tlog-proof@v1\nextra ")
        checked = verify(text, origin="sealtrail/acme", log_vkey=vkey)
        assert checked.index == seq
        assert checked.tree_size == 13
        assert checked.leaf["id"] == event_id
        # personal fields travel only as commitments
        assert "ann@example.com" not in text
        actor = checked.leaf["actor"]
        assert isinstance(actor, dict)
        assert set(actor) == {"type", "id", "name", "email"}


def test_a_changed_proof_file_is_rejected_by_the_outsider(api: Api) -> None:
    assert api.post({"events": [event(f"e{i}") for i in range(6)]}).status_code == 201
    vkey = api.get("/v1/checkpoint").json()["verifier_key"]
    honest = TlogProof.from_text(_proof(api, "e3"))
    leaf = honest.extra or b""
    tampered = [
        TlogProof(honest.index, honest.proof, honest.checkpoint, leaf.replace(b"e3", b"e9")),
        TlogProof(2, honest.proof, honest.checkpoint, honest.extra),
        TlogProof(honest.index, honest.proof[::-1], honest.checkpoint, honest.extra),
        TlogProof(
            honest.index,
            honest.proof,
            honest.checkpoint.replace("\n6\n", "\n7\n", 1),
            honest.extra,
        ),
    ]
    for bad in tampered:
        with pytest.raises(Rejected):
            verify(bad.to_text(), origin="sealtrail/acme", log_vkey=vkey)
    with pytest.raises(Rejected):
        verify(honest.to_text(), origin="sealtrail/globex", log_vkey=vkey)
    assert TlogProof.from_text(honest.to_text()) == honest


def test_proofs_respect_the_tenant_and_the_format(api: Api) -> None:
    assert api.post({"events": [event("mine")]}).status_code == 201
    assert api.get("/v1/events/mine/proof", "globex").status_code == 404
    assert api.get("/v1/events/mine/proof", format="json").status_code == 422
    assert api.get("/v1/events/mine/proof", size="3").status_code == 422
