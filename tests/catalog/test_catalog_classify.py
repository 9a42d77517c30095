"""Actions the catalog does not name, and types a tenant registers."""

from __future__ import annotations

import pytest

from sealtrail.catalog import Catalog, EventType, kind_for_action
from sealtrail.errors import InvalidInput


@pytest.mark.parametrize(
    ("action", "kind"),
    [
        # SPEC §4
        ("widget.created", "create"),
        ("widget.autocreated", "create"),
        ("team.member_invited", "create"),
        ("crm.connected", "create"),
        ("tag.added", "create"),
        ("widget.updated", "update"),
        ("widget.colour_changed", "update"),
        ("widget.deleted", "delete"),
        ("team.member_removed", "delete"),
        ("token.revoked", "delete"),
        ("contractor.offboarded", "delete"),
        ("crm.disconnected", "delete"),
        # beyond it
        ("report.viewed", "access"),
        ("report.exported", "access"),
        ("sso.login", "access"),
        ("portal.logged_in", "access"),
        ("widget.archived", "delete"),
        ("widget.renamed", "update"),
        ("widget.frobnicated", "other"),
        ("widget.rolled_back", "other"),
        ("widget.thread", "other"),
    ],
)
def test_kind_from_the_verb(action: str, kind: str) -> None:
    assert kind_for_action(action) == kind
    assert Catalog.builtin().classify(action).kind == kind


def test_unknown_actions_are_synthesised_not_registered() -> None:
    catalog = Catalog.builtin()
    event_type = catalog.classify("widget.frobnicated")
    assert event_type.name == "widget.frobnicated"
    assert event_type.category == "other"
    assert not event_type.builtin
    assert not event_type.expects_target
    assert event_type.resource_type is None
    assert not catalog.is_known("widget.frobnicated")
    description = catalog.describe("widget.frobnicated", actor="Ann", target=None, resource=None)
    assert description == "Ann performed widget.frobnicated"


@pytest.mark.parametrize(
    ("action", "category"),
    [
        ("member.promoted", "members"),
        ("app.archived", "apps"),
        ("api_key.expired", "api_keys"),
        ("user.suspended", "members"),  # user.created/updated/deleted outvote user.login/logout
        ("workspace.archived", "organization"),  # its one-word verbs live there
        ("billing.invoice_paid", "billing"),
        ("audit_log.searched", "audit_log"),
        ("widget.created", "other"),
        ("members.created", "other"),
    ],
)
def test_category_from_the_first_segment(action: str, category: str) -> None:
    assert Catalog.builtin().classify(action).category == category


def test_known_actions_classify_as_themselves() -> None:
    catalog = Catalog.builtin()
    for event_type in catalog.types():
        assert catalog.classify(event_type.name) is event_type


def test_tenant_types_extend_and_override() -> None:
    builtin = Catalog.builtin()
    tenant = builtin.with_types(
        [
            EventType("crm.synced", "crm", "other", "{actor} synced {resource}", builtin=True),
            EventType("member.invited", "members", "create", "{actor} asked {target} to join"),
        ],
        labels={"crm": "CRM"},
    )
    synced = tenant.lookup("crm.synced")
    assert synced is not None
    assert not synced.builtin
    assert tenant.category_label("crm") == "CRM"
    assert ("crm", "CRM", [synced]) in tenant.categories()
    assert tenant.categories()[-1][0] == "crm"
    assert tenant.describe("member.invited", actor="Ann", target="Bob", resource=None) == (
        "Ann asked Bob to join"
    )
    assert len(tenant.types()) == len(builtin.types()) + 1
    assert tenant.classify("crm.refreshed").category == "crm"
    # the built-in catalog is untouched
    assert not builtin.is_known("crm.synced")
    original = builtin.lookup("member.invited")
    assert original is not None
    assert original.builtin


def test_tenant_categories_without_label_read_from_the_slug() -> None:
    tenant = Catalog.builtin().with_types([EventType("crm_sync.ran", "crm_sync", "other", "x")])
    assert tenant.categories()[-1][:2] == ("crm_sync", "Crm sync")


@pytest.mark.parametrize(
    ("event_type", "message"),
    [
        (EventType("Member.Invited", "members", "create", "x"), "resource.verb"),
        (EventType("member", "members", "create", "x"), "resource.verb"),
        (EventType("member.invited\n", "members", "create", "x"), "resource.verb"),
        (EventType("a.b", "members", "made_up", "x"), "kind"),  # type: ignore[arg-type]
        (EventType("a.b", "Members!", "create", "x"), "category"),
        (EventType("a.b", "members", "create", "x", resource_type="App"), "resource_type"),
        (EventType("a.b", "members", "create", " "), "empty"),
        (EventType("a.b", "members", "create", "{actor.__class__}"), "unknown placeholder"),
        (EventType("a.b", "members", "create", "{0}"), "unknown placeholder"),
        (EventType("a.b", "members", "create", "{actor} {"), "brace"),
        (EventType("a.b", "members", "create", "x" * 1001), "1000"),
    ],
)
def test_bad_tenant_types_are_refused(event_type: EventType, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Catalog.builtin().with_types([event_type])


def test_bad_tenant_category_label_is_refused() -> None:
    with pytest.raises(InvalidInput, match="slug"):
        Catalog.builtin().with_types([], labels={"Bad Slug": "x"})
