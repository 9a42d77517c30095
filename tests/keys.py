"""API keys for tests that are about something else.

Creating a key through ``AuditLog.create_api_key`` (or ``sealtrail keys create``)
records ``audit_log.api_key_created`` in the tenant's own log, so a test that
counts or pages through the log would see it. Fixtures that only need a
credential add the key straight to the store instead — its contract method,
on a store of its own on the same database — and the log holds exactly what
the test recorded. What key creation records is tested in tests/api/test_keys.py.
"""

from __future__ import annotations

from sealtrail.auth import generate_api_key, parse_scopes
from sealtrail.events import now_micros
from sealtrail.store import open_store
from sealtrail.store.base import ApiKeyRecord


def quiet_api_key(database_url: str, tenant_id: str, scopes: str) -> str:
    """A new key of ``tenant_id`` with ``scopes``, unrecorded; the plain key."""
    fresh = generate_api_key()
    store = open_store(database_url)
    try:
        store.add_api_key(
            ApiKeyRecord(
                fresh.id,
                tenant_id,
                fresh.secret_hash,
                frozenset(parse_scopes(scopes)),
                now_micros(),
            )
        )
    finally:
        store.close()
    return fresh.plain
