"""Contract: tenants, API keys and tenant event types."""

from __future__ import annotations

import pytest

from sealtrail.catalog import EventType
from sealtrail.errors import Conflict
from sealtrail.store.base import ApiKeyRecord, EventStore, EventTypeVersion, Tenant

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


def test_event_types_are_per_tenant_and_versioned(store: EventStore) -> None:
    add_tenant(store, "acme")
    add_tenant(store, "globex")
    first = EventType("report.generated", "reports", "create", "{actor} made", builtin=False)
    second = EventType("report.generated", "reports", "create", "{actor} ran", builtin=False)
    store.add_event_type_version("acme", EventTypeVersion(first, 1, T0))
    store.add_event_type_version("acme", EventTypeVersion(second, 2, T0 + 5))
    assert store.tenant_event_types("acme") == [second]
    assert store.event_type_versions("acme") == [
        EventTypeVersion(first, 1, T0),
        EventTypeVersion(second, 2, T0 + 5),
    ]
    assert store.tenant_event_types("globex") == []
    assert store.event_type_versions("globex") == []


def test_a_version_is_kept_once_and_the_loser_of_a_race_is_told(store: EventStore) -> None:
    add_tenant(store, "acme")
    mine = EventType("report.generated", "reports", "create", "mine", builtin=False)
    theirs = EventType("report.generated", "billing", "update", "theirs", builtin=False)
    store.add_event_type_version("acme", EventTypeVersion(mine, 1, T0))
    with pytest.raises(Conflict):
        store.add_event_type_version("acme", EventTypeVersion(theirs, 1, T0 + 1))
    assert store.tenant_event_types("acme") == [mine]
    assert [v.event_type for v in store.event_type_versions("acme")] == [mine]
