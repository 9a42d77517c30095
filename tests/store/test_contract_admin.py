"""Contract: tenants, API keys and tenant event types."""

from __future__ import annotations

import pytest

from sealtrail.catalog import EventType
from sealtrail.errors import Conflict
from sealtrail.store.base import ApiKeyRecord, EventStore, Tenant

from .factory import T0, add_tenant


def test_tenants_are_created_listed_and_unique(store: EventStore) -> None:
    add_tenant(store, "acme")
    add_tenant(store, "globex")
    assert [t.id for t in store.list_tenants()] == ["acme", "globex"]
    assert store.get_tenant("acme") == Tenant("acme", "Acme", T0)
    assert store.get_tenant("nope") is None
    with pytest.raises(Conflict):
        add_tenant(store, "acme")


def test_api_keys_keep_hashes_and_revoke_once(store: EventStore) -> None:
    add_tenant(store)
    key = ApiKeyRecord("k" * 16, "acme", b"\x09" * 32, frozenset({"events:read"}), T0, "ci")
    store.add_api_key(key)
    with pytest.raises(Conflict):
        store.add_api_key(key)
    assert store.get_api_key(key.id) == key
    assert store.list_api_keys("acme") == [key]
    assert store.list_api_keys("other") == []
    assert store.revoke_api_key(key.id, T0 + 1) is True
    assert store.revoke_api_key(key.id, T0 + 2) is False
    revoked = store.get_api_key(key.id)
    assert revoked is not None and revoked.revoked_at == T0 + 1


def test_event_types_are_per_tenant_and_replaceable(store: EventStore) -> None:
    add_tenant(store, "acme")
    add_tenant(store, "globex")
    custom = EventType(
        "report.generated", "reports", "create", "{actor} made a report", builtin=False
    )
    store.put_event_type("acme", custom)
    store.put_event_type(
        "acme", EventType("report.generated", "reports", "access", "x", builtin=False)
    )
    assert [t.kind for t in store.tenant_event_types("acme")] == ["access"]
    assert store.tenant_event_types("globex") == []
