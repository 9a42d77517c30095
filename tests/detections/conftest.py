"""The detections tests' audit log: tenant ``acme`` on each engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.settings import Settings
from sealtrail.store import open_store

from ..store.conftest import ENGINES


@pytest.fixture(params=ENGINES)
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditLog]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'detections.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    audit_log = AuditLog(
        open_store(url), settings=Settings(signing_key_file=str(tmp_path / "signing.key"))
    )
    audit_log.migrate()
    audit_log.create_tenant("acme")
    try:
        yield audit_log
    finally:
        audit_log.close()
