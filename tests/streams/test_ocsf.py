"""OCSF: every catalog type maps to one of the five classes and validates against OCSF 1.8.0.

The validator is the OCSF project's own 1.8.0 schema export (packaged by
``ocsf-json-schema``), turned into JSON Schema (Draft 2020-12, unknown attributes refused)
and checked with ``jsonschema``; sibling names (``class_name``, ``activity_name``,
``type_name``, ``severity``, ``status``) are checked against the export's captions.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

import sealtrail
from sealtrail.catalog import Catalog, EventType
from sealtrail.events import Actor, Event, Resource, Target
from sealtrail.streams import OCSF_VERSION, OcsfJson, mapping_for, to_ocsf
from sealtrail.streams.ocsf import mapping_markdown
from tests.naughty import NAUGHTY
from tests.streams.conftest import make_event

DOC = Path(__file__).resolve().parents[2] / "docs" / "streams.md"
CLASSES = {3002, 3004, 3005, 3006, 6003}


@functools.cache
def _export() -> dict[str, Any]:
    schema: dict[str, Any] = get_ocsf_schema(version=OCSF_VERSION)
    return schema


@functools.cache
def _validator(class_uid: int) -> jsonschema.protocols.Validator:
    embedded = OcsfJsonSchemaEmbedded(_export())
    schema = embedded.get_class_schema(embedded.lookup_class_name_from_uid(class_uid), [])
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator: jsonschema.protocols.Validator = validator_class(schema)
    return validator


def _caption(enum_owner: dict[str, Any], attribute: str, value: int) -> str:
    caption: str = enum_owner["attributes"][attribute]["enum"][str(value)]["caption"]
    return caption


def assert_valid_ocsf(obj: dict[str, Any]) -> None:
    errors = sorted(_validator(obj["class_uid"]).iter_errors(obj), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    cls = next(c for c in _export()["classes"].values() if c["uid"] == obj["class_uid"])
    assert obj["class_name"] == cls["caption"]
    assert obj["category_name"] == _caption(cls, "category_uid", obj["category_uid"])
    assert obj["activity_name"] == _caption(cls, "activity_id", obj["activity_id"])
    assert obj["type_uid"] == obj["class_uid"] * 100 + obj["activity_id"]
    assert obj["type_name"] == _caption(cls, "type_uid", obj["type_uid"])
    assert obj["severity"] == _caption(cls, "severity_id", obj["severity_id"])
    assert obj["status"] == _caption(cls, "status_id", obj["status_id"])
    assert obj["metadata"]["version"] == "1.8.0" == _export()["version"]


def _full_event(event_type: EventType, seq: int = 7) -> Event:
    return make_event(
        event_type.name,
        seq,
        ip="2001:db8::1",
        user_agent="Mozilla/5.0",
        request_id="req_9",
        account_id="acc_1",
        description="something happened",
        context={"new_role": "admin", "nested": {"a": [1, 2.5, None, True]}},
    )


BUILTIN = Catalog.builtin().types()


@pytest.mark.parametrize("event_type", BUILTIN, ids=[t.name for t in BUILTIN])
def test_every_catalog_type_validates_with_all_fields(event_type: EventType) -> None:
    obj = to_ocsf(_full_event(event_type))
    assert obj["class_uid"] in CLASSES
    assert_valid_ocsf(obj)
    assert obj["metadata"]["uid"] == "evt_000007"
    assert obj["metadata"]["sequence"] == 7
    assert obj["unmapped"]["action"] == event_type.name
    assert obj["unmapped"]["context"]["nested"] == {"a": [1, 2.5, None, True]}


@pytest.mark.parametrize("event_type", BUILTIN, ids=[t.name for t in BUILTIN])
def test_every_catalog_type_validates_with_the_fewest_fields(event_type: EventType) -> None:
    event = make_event(
        event_type.name,
        0,
        outcome="failure",
        actor=Actor("system", "system"),
        target=None,
        resource=None,
    )
    assert_valid_ocsf(to_ocsf(event))


def test_each_class_is_used_by_the_catalog() -> None:
    used = {mapping_for(t.name, t.category, t.kind).class_uid for t in BUILTIN}
    assert used == CLASSES


@pytest.mark.parametrize(
    ("action", "class_uid", "activity_id"),
    [
        ("auth.login", 3002, 1),
        ("user.logout", 3002, 2),
        ("auth.sso_login", 3002, 1),
        ("member.role_changed", 3005, 1),
        ("workspace.member_added", 3006, 3),
        ("process.member_removed", 3006, 4),
        ("member.invited", 3004, 1),
        ("member.offboarded", 3004, 11),
        ("api_key.create", 3004, 1),
        ("auth.mfa_disabled", 3004, 9),
        ("app.published", 6003, 3),
        ("audit_log.exported", 6003, 2),
        ("job.failed", 6003, 99),
    ],
)
def test_mapping_of_named_types(action: str, class_uid: int, activity_id: int) -> None:
    t = Catalog.builtin().classify(action)
    assert mapping_for(action, t.category, t.kind) == type(mapping_for(action, "", ""))(
        class_uid, activity_id
    )


@pytest.mark.parametrize(
    ("action", "class_uid", "activity_id"),
    [
        ("customer.login", 3002, 1),  # a tenant's own sign-in type
        ("customer.signed_out", 3002, 2),
        ("member.promoted", 3004, 99),  # unknown verb in an IAM category
        ("api_key.archived", 3004, 4),
        ("invoice.created", 6003, 1),  # unknown prefix, kind from the verb
        ("widget.frobnicated", 6003, 99),
    ],
)
def test_unknown_actions_map_by_verb_category_and_kind(
    action: str, class_uid: int, activity_id: int
) -> None:
    event = make_event(action, 3, ip="198.51.100.7")
    obj = to_ocsf(event)
    assert (obj["class_uid"], obj["activity_id"]) == (class_uid, activity_id)
    assert_valid_ocsf(obj)


@pytest.mark.parametrize("text", NAUGHTY, ids=range(len(NAUGHTY)))
def test_naughty_values_stay_valid_and_intact(text: str) -> None:
    value = text or "x"
    event = make_event(
        "workspace.member_added",
        1,
        actor=Actor("api_key", value, value, value, value),
        target=Target(value, value, value),
        resource=Resource(value, value, value),
        description=value,
        context={value: value},
        user_agent=value,
        request_id=value,
    )
    obj = to_ocsf(event)
    assert_valid_ocsf(obj)
    assert obj["actor"]["user"]["uid"] == value
    assert obj["group"]["name"] == value
    assert obj["unmapped"]["context"] == {value: value}
    assert obj["unmapped"]["actor_email"] == value  # not an OCSF email_t


def test_field_mapping_of_an_authentication_event() -> None:
    event = make_event(
        "auth.login",
        41,
        outcome="failure",
        ip="203.0.113.9",
        user_agent="curl/8",
        request_id="req_7",
        description="Ada Admin signed in",
    )
    obj = to_ocsf(event, OcsfJson(service_name="Chipp", product_version="9.9"))
    assert_valid_ocsf(obj)
    assert obj["time"] == 1772366400123
    assert obj["metadata"]["logged_time"] == 1772366401000
    assert obj["metadata"]["original_time"] == "2026-03-01T12:00:00.123456Z"
    assert obj["metadata"]["log_name"] == "sealtrail/acme"
    assert obj["metadata"]["correlation_uid"] == "req_7"
    assert obj["metadata"]["product"] == {
        "name": "Sealtrail",
        "vendor_name": "Sealtrail",
        "version": "9.9",
    }
    assert obj["user"]["email_addr"] == "ada@example.com"
    assert obj["service"] == {"name": "Chipp"}
    assert obj["src_endpoint"] == {"ip": "203.0.113.9"}
    assert (obj["status_id"], obj["severity_id"]) == (2, 3)
    assert obj["unmapped"]["user_agent"] == "curl/8"
    assert obj["unmapped"]["actor_role"] == "admin"


def test_privileges_come_from_the_context() -> None:
    role = to_ocsf(make_event(context={"previous_role": "member", "new_role": "admin"}))
    perms = to_ocsf(
        make_event("workspace.permissions_updated", context={"new_permissions": ["a", "b"]})
    )
    none = to_ocsf(make_event("member.role_updated"))
    assert (role["privileges"], perms["privileges"], none["privileges"]) == (
        ["admin"],
        ["a", "b"],
        [],
    )


def test_api_activity_names_resources_and_the_request() -> None:
    event = make_event(
        "app.published", 2, request_id="r1", user_agent="ua", target=Target("user", "u_9")
    )
    obj = to_ocsf(event)
    assert obj["api"] == {"operation": "app.published", "request": {"uid": "r1"}}
    assert obj["src_endpoint"] == {"name": "unknown"}
    assert obj["resources"] == [
        {"uid": "app_1", "type": "app", "role_id": 1, "name": "Main"},
        {"uid": "u_9", "type": "user", "role_id": 3},
    ]
    assert obj["http_request"] == {"user_agent": "ua"}


def test_the_docs_table_is_the_mapping() -> None:
    assert mapping_markdown() in DOC.read_text(), (
        "docs/streams.md's OCSF table is stale: "
        "python -c 'from sealtrail.streams.ocsf import mapping_markdown as m; print(m())'"
    )


@pytest.mark.parametrize(
    "spoil",
    [
        lambda o: o.pop("entity"),  # a required object
        lambda o: o.update(activity_id=42),  # not in the class's enum
        lambda o: o.update(invented=1),  # not an attribute of the class
        lambda o: o["entity"].update(type_id="2"),  # wrong type
        lambda o: o["metadata"].pop("product"),
    ],
)
def test_the_validator_refuses_what_ocsf_refuses(spoil: Any) -> None:
    obj = to_ocsf(make_event("member.invited"))
    spoil(obj)
    assert list(_validator(obj["class_uid"]).iter_errors(obj))


def test_the_reporting_product_defaults_to_this_sealtrail() -> None:
    product = to_ocsf(make_event())["metadata"]["product"]
    assert product["version"] == sealtrail.__version__
