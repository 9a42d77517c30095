"""Contract: saved searches are kept per tenant, shared or per owner, named uniquely in each."""

from __future__ import annotations

import pytest

from sealtrail.errors import Conflict
from sealtrail.saved_searches import SavedSearch
from sealtrail.store.base import EventStore

from .factory import T0, add_tenant


def saved(ident: str, name: str, owner: str | None = None, tenant: str = "acme") -> SavedSearch:
    return SavedSearch(
        id=ident,
        tenant_id=tenant,
        name=name,
        phrase=f'action:member.* "{name}"',
        owner=owner,
        created_by='{"type": "user", "id": "u1"}',
        created_at=T0,
    )


@pytest.fixture
def tenants(store: EventStore) -> EventStore:
    add_tenant(store, "acme")
    add_tenant(store, "globex")
    return store


def test_a_saved_search_reads_back_as_kept(tenants: EventStore) -> None:
    kept = saved("ss_1", "Fehlgeschlagene Anmeldungen — ünïcödé", owner="usr_ada")
    tenants.add_saved_search(kept)
    assert tenants.get_saved_search("acme", "ss_1") == kept
    assert tenants.get_saved_search("globex", "ss_1") is None
    assert tenants.get_saved_search("acme", "ss_2") is None


def test_the_list_holds_the_shared_ones_and_one_owners_by_name(tenants: EventStore) -> None:
    for search in (
        saved("ss_1", "b shared"),
        saved("ss_2", "a ada's", owner="usr_ada"),
        saved("ss_3", "c bob's", owner="usr_bob"),
        saved("ss_4", "a shared"),
        saved("ss_5", "a globex", tenant="globex"),
    ):
        tenants.add_saved_search(search)
    assert [s.id for s in tenants.saved_searches("acme")] == ["ss_4", "ss_1"]
    assert [s.id for s in tenants.saved_searches("acme", "usr_ada")] == ["ss_2", "ss_4", "ss_1"]
    assert [s.id for s in tenants.saved_searches("acme", "usr_bob")] == ["ss_4", "ss_1", "ss_3"]
    assert [s.id for s in tenants.saved_searches("globex", "usr_ada")] == ["ss_5"]
    assert tenants.count_saved_searches("acme") == 4
    assert tenants.count_saved_searches("globex") == 1


def test_names_are_unique_among_shared_ones_and_among_each_owners(tenants: EventStore) -> None:
    tenants.add_saved_search(saved("ss_1", "logins"))
    tenants.add_saved_search(saved("ss_2", "logins", owner="usr_ada"))
    tenants.add_saved_search(saved("ss_3", "logins", owner="usr_bob"))
    tenants.add_saved_search(saved("ss_4", "logins", tenant="globex"))
    with pytest.raises(Conflict, match="shared saved search named 'logins'"):
        tenants.add_saved_search(saved("ss_5", "logins"))
    with pytest.raises(Conflict, match="private saved search named 'logins'"):
        tenants.add_saved_search(saved("ss_6", "logins", owner="usr_ada"))
    assert tenants.count_saved_searches("acme") == 3


def test_delete_forgets_one_of_the_tenants_own(tenants: EventStore) -> None:
    tenants.add_saved_search(saved("ss_1", "logins"))
    tenants.add_saved_search(saved("ss_2", "other"))
    assert tenants.delete_saved_search("globex", "ss_1") is False
    assert tenants.delete_saved_search("acme", "ss_1") is True
    assert tenants.delete_saved_search("acme", "ss_1") is False
    assert [s.id for s in tenants.saved_searches("acme")] == ["ss_2"]
    tenants.add_saved_search(saved("ss_3", "logins"))  # the name is free again
