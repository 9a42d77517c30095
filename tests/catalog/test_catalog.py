"""The built-in catalog covers SPEC §4 and every family of the seed product pages."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from sealtrail.catalog import KINDS, Catalog, EventType

SHARED = Path(__file__).resolve().parents[3] / "shared"

# Every action SPEC §4 names, with the kind its verb calls for.
SPEC_ACTIONS = {
    "member.invited": "create",
    "member.invite_accepted": "create",
    "member.invite_revoked": "delete",
    "member.role_changed": "update",
    "member.offboarded": "delete",
    "member.reactivated": "create",
    "workspace.member_added": "create",
    "app.created": "create",
    "app.published": "update",
    "app.rolled_back": "update",
    "app.version_restored": "update",
    "subscription.changed": "update",
    "subscription.cancelled": "delete",
    "billing.top_up_settings_updated": "update",
    "stripe_connect.initiated": "create",
    "oauth.connected": "create",
    "channel.configured": "update",
    "mcp_integration.created": "create",
    "phone_number.purchased": "create",
    "custom_domain.added": "create",
    "knowledge_source.created": "create",
    "agent_link.deleted": "delete",
    "voice_clone.created": "create",
    "workspace.created": "create",
    "whitelabel.updated": "update",
    "organisation.settings_updated": "update",
    "auth.login": "access",
    "auth.logout": "access",
    "user.login": "access",
    "api_key.create": "create",
    "api_key.delete": "delete",
    "api_key.deactivated": "delete",
    "process.created": "create",
    "job.completed": "other",
    "audit_log.viewed": "access",
    "audit_log.exported": "access",
    "audit_log.subject_erased": "delete",
}

# Actions the seed pages spell out literally.
SEED_LITERAL_ACTIONS = [
    "member.invited",
    "member.role_changed",
    "member.offboarded",
    "integration.connected",
    "subscription.changed",
    "auth.login",
    "auth.logout",
    "api_key.create",
    "api_key.delete",
    "knowledge.create",
    "knowledge.update",
    "channel.create",
    "channel.connect",
    "message.send",
    "db.update",
    "user.login",
    "organisation.settings_updated",
]

# Every family the seed pages list in prose, as catalog actions.
SEED_FAMILIES = {
    "member management": [
        "member.invited",
        "member.invite_accepted",
        "member.invite_revoked",
        "member.role_changed",
        "member.offboarded",
        "member.reactivated",
        "workspace.member_added",
        "workspace.member_removed",
        "workspace.member_permissions_updated",
    ],
    "app lifecycle": [
        "app.created",
        "app.deleted",
        "app.duplicated",
        "app.moved",
        "app.published",
        "app.rolled_back",
        "app.version_restored",
        "app.settings_updated",
    ],
    "billing": [
        "subscription.changed",
        "subscription.cancelled",
        "billing.top_up_settings_updated",
        "billing.notification_settings_updated",
        "stripe_connect.initiated",
        "stripe_connect.disconnected",
    ],
    "integrations": [
        "oauth.connected",
        "oauth.disconnected",
        "channel.configured",
        "mcp_integration.created",
        "mcp_integration.updated",
        "mcp_integration.deleted",
        "phone_number.purchased",
        "phone_number.released",
        "custom_domain.added",
        "custom_domain.verified",
        "custom_domain.removed",
        "sender_domain.added",
        "sender_domain.verified",
        "sender_domain.removed",
    ],
    "knowledge & AI": [
        "knowledge_source.created",
        "knowledge_source.deleted",
        "knowledge_source.linked",
        "knowledge_source.unlinked",
        "agent_link.created",
        "agent_link.deleted",
        "voice_clone.created",
        "voice_clone.deleted",
    ],
    "organisation settings": [
        "workspace.created",
        "workspace.updated",
        "workspace.deleted",
        "whitelabel.updated",
        "consumer_package.created",
        "consumer_package.updated",
        "consumer_package.deleted",
    ],
    "users & members (seed 004)": [
        "user.created",
        "user.updated",
        "member.added",
        "member.role_updated",
        "member.removed",
        "invitation.created",
        "invitation.accepted",
    ],
    "processes & jobs": [
        "process.created",
        "process.updated",
        "process.deleted",
        "job.completed",
        "process.member_added",
        "process.member_removed",
    ],
    "settings, API keys, license": [
        "settings.updated",
        "api_key.created",
        "api_key.deactivated",
        "license.activated",
    ],
    "accounts": ["account.created", "account.updated"],
}

ACTION = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.builtin()


def test_catalog_ships_as_package_data() -> None:
    resource = resources.files("sealtrail").joinpath("catalog.toml")
    assert resource.is_file()
    assert "[[category]]" in resource.read_text(encoding="utf-8")


def test_builtin_is_loaded_once(catalog: Catalog) -> None:
    assert Catalog.builtin() is catalog


def test_has_more_than_a_hundred_types(catalog: Catalog) -> None:
    assert len(catalog.types()) >= 120


@pytest.mark.parametrize(("action", "kind"), sorted(SPEC_ACTIONS.items()))
def test_every_spec_action_is_builtin_with_its_kind(
    catalog: Catalog, action: str, kind: str
) -> None:
    event_type = catalog.lookup(action)
    assert event_type is not None, action
    assert event_type.kind == kind
    assert event_type.builtin


def test_every_action_the_seeds_spell_out_is_builtin(catalog: Catalog) -> None:
    seeds = "\n".join(p.read_text(encoding="utf-8") for p in sorted(SHARED.glob("seeds/*.txt")))
    assert seeds, f"seed pages missing under {SHARED}"
    for action in SEED_LITERAL_ACTIONS:
        assert action in seeds, f"{action} is not in the seeds; fix the list"
        assert catalog.is_known(action), action
    assert [a for a in catalog.actions_in_category("billing") if a.startswith("billing.top_up")]


@pytest.mark.parametrize("family", sorted(SEED_FAMILIES))
def test_every_seed_family_is_covered(catalog: Catalog, family: str) -> None:
    missing = [a for a in SEED_FAMILIES[family] if not catalog.is_known(a)]
    assert not missing


def test_the_spec_verbs_agree_with_the_catalogued_kinds(catalog: Catalog) -> None:
    verbs = {
        "created": "create",
        "invited": "create",
        "connected": "create",
        "added": "create",
        "updated": "update",
        "changed": "update",
        "deleted": "delete",
        "removed": "delete",
        "revoked": "delete",
        "offboarded": "delete",
        "disconnected": "delete",
    }
    for event_type in catalog.types():
        verb = event_type.name.rpartition(".")[2]
        expected = next((k for v, k in verbs.items() if verb.endswith(v)), None)
        if verb.endswith("disconnected"):
            expected = "delete"
        if expected:
            assert event_type.kind == expected, event_type.name


def test_every_type_is_well_formed(catalog: Catalog) -> None:
    for event_type in catalog.types():
        assert ACTION.fullmatch(event_type.name)
        assert event_type.kind in KINDS
        assert event_type.category in {slug for slug, _, _ in catalog.categories()}
        if "{target}" in event_type.description:
            assert event_type.expects_target, event_type.name
        if event_type.expects_target:
            assert "{target}" in event_type.description, event_type.name


def test_every_kind_is_used(catalog: Catalog) -> None:
    assert {t.kind for t in catalog.types()} == set(KINDS)


def test_categories_group_every_type_once_in_catalog_order(catalog: Catalog) -> None:
    groups = catalog.categories()
    slugs = [slug for slug, _, _ in groups]
    assert slugs[:3] == ["members", "apps", "billing"]
    assert slugs[-1] == "audit_log"
    assert "other" not in slugs  # declared, but empty
    grouped = [t.name for _, _, types in groups for t in types]
    assert sorted(grouped) == [t.name for t in catalog.types()]
    for slug, label, types in groups:
        assert label == catalog.category_label(slug)
        assert [t.name for t in types] == catalog.actions_in_category(slug)
        assert all(t.category == slug for t in types)


def test_category_labels(catalog: Catalog) -> None:
    assert catalog.category_label("members") == "Users & members"
    assert catalog.category_label("knowledge_ai") == "Knowledge & AI"
    assert catalog.category_label("other") == "Other"
    assert catalog.category_label("crm_sync") == "Crm sync"


def test_types_are_sorted_by_name(catalog: Catalog) -> None:
    names = [t.name for t in catalog.types()]
    assert names == sorted(names)
    assert len(names) == len(set(names))


def test_lookup_and_is_known(catalog: Catalog) -> None:
    assert catalog.lookup("member.nope") is None
    assert not catalog.is_known("member.nope")
    assert not catalog.is_known("member.invited\n")
    assert catalog.lookup("member.invited") == EventType(
        name="member.invited",
        category="members",
        kind="create",
        description="{actor} invited {target}",
        expects_target=True,
    )


def test_to_dict_is_the_api_shape(catalog: Catalog) -> None:
    event_type = catalog.lookup("workspace.member_added")
    assert event_type is not None
    assert event_type.to_dict() == {
        "name": "workspace.member_added",
        "category": "members",
        "kind": "create",
        "description": "{actor} added {target} to workspace {resource}",
        "expects_target": True,
        "resource_type": "workspace",
        "builtin": True,
    }
