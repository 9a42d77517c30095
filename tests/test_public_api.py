"""``import sealtrail`` offers exactly the curated surface, and in-process recording works."""

from __future__ import annotations

from pathlib import Path

import pytest

import sealtrail


def test_all_is_curated_and_resolves() -> None:
    assert sealtrail.__all__ == sorted(sealtrail.__all__)
    for name in sealtrail.__all__:
        assert getattr(sealtrail, name) is not None, name
    with pytest.raises(AttributeError):
        sealtrail.nothing_here  # noqa: B018


def test_in_process_record_has_the_client_signature(tmp_path: Path) -> None:
    import inspect

    log = sealtrail.AuditLog.open(f"sqlite:///{tmp_path / 'x.db'}")
    log.migrate()
    log.create_tenant("acme")
    client_params = set(inspect.signature(sealtrail.Client.record).parameters) - {"self"}
    log_params = set(inspect.signature(sealtrail.AuditLog.record).parameters) - {"self", "tenant"}
    assert client_params == log_params
    with sealtrail.context(actor={"type": "user", "id": "u_1", "email": "a@x.com"}, tenant="acme"):
        ident = log.record(action="member.invited", target={"type": "user", "id": "u_2"})
    from sealtrail.auth import Principal

    stored = log.get_event(Principal.operator("acme"), ident)
    assert stored.actor.email == "a@x.com"
    assert stored.seq == 0
    with pytest.raises(sealtrail.InvalidInput):
        log.record(action="member.invited", actor={"type": "system"})
    with pytest.raises(sealtrail.InvalidEvent):
        log.record(action="Not An Action", actor={"type": "system"}, tenant="acme")
    log.close()
