"""normalise_value: the one normal form of each field's values."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network

import pytest

from sealtrail.errors import InvalidQuery
from sealtrail.query import Field, ResourceRef, TermValue, normalise_value


@pytest.mark.parametrize(
    ("field", "raw", "value"),
    [
        (Field.ACTION, "Member.Role_Changed", "member.role_changed"),
        (Field.ACTION, "billing.top_up.*", "billing.top_up.*"),
        (Field.ACTION, "a.b", "a.b"),
        (Field.KIND, " ACCESS ", "access"),
        (Field.OUTCOME, "Success", "success"),
        (Field.ACTOR, "Ann@Example.COM", "ann@example.com"),
        (Field.ACTOR, "usr_AbC", "usr_AbC"),
        (Field.TARGET, "Bob@X.io", "bob@x.io"),
        (Field.TARGET, "usr_B", "usr_B"),
        (Field.ACTOR_EMAIL, "ÀNN@X.COM", "ànn@x.com"),
        (Field.CATEGORY, "Billing", "Billing"),
        (Field.RESOURCE, "workspace/ws_1", ResourceRef("workspace", "ws_1")),
        (Field.RESOURCE, "workspace", ResourceRef("workspace")),
        (Field.RESOURCE, "file/a/b", ResourceRef("file", "a/b")),
        (Field.TEXT, "  as typed ", "  as typed "),
        (Field.IP, "192.0.2.7", IPv4Network("192.0.2.7/32")),
        (Field.IP, "192.0.2.7/24", IPv4Network("192.0.2.0/24")),
        (Field.IP, "10.0.0.0/255.0.0.0", IPv4Network("10.0.0.0/8")),
        (Field.IP, "2001:DB8::1", IPv6Network("2001:db8::1/128")),
        (Field.IP, "2001:db8::1/48", IPv6Network("2001:db8::/48")),
        (Field.IP, "::ffff:10.0.0.1", IPv4Network("10.0.0.1/32")),
        (Field.IP, "::ffff:10.0.0.0/104", IPv4Network("10.0.0.0/8")),
        (Field.IP, "::ffff:0:0/96", IPv4Network("0.0.0.0/0")),
        (Field.IP, "::/0", IPv6Network("::/0")),
        (Field.IP, "::ffff:0:0/95", IPv6Network("::fffe:0:0/95")),
    ],
)
def test_normal_forms(field: Field, raw: str, value: TermValue) -> None:
    assert normalise_value(field, raw) == value


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        (Field.ACTION, "member"),
        (Field.ACTION, "member.*.invited"),
        (Field.ACTION, "9lives.x"),
        (Field.ACTION, "member.inv-ited"),
        (Field.ACTION, "ｍember.invited"),
        (Field.KIND, "created"),
        (Field.OUTCOME, "failed"),
        (Field.RESOURCE, "/"),
        (Field.IP, "10.0.0"),
        (Field.IP, "010.0.0.1"),
        (Field.IP, "1.2.3.4/-1"),
        (Field.ACTOR_ID, ""),
        (Field.ACTOR_ID, " \t"),
        (Field.TEXT, "   "),
        (Field.CATEGORY, "a\x00"),
    ],
)
def test_refused(field: Field, raw: str) -> None:
    with pytest.raises(InvalidQuery) as caught:
        normalise_value(field, raw)
    assert caught.value.parameter is None  # the caller knows the parameter's name


def test_field_values_are_the_parameter_and_phrase_names() -> None:
    assert Field("actor_email") is Field.ACTOR_EMAIL
    assert str(Field.ACCOUNT_ID) == "account_id"
    assert [field.value for field in Field][-1] == "text"


def test_resource_ref_text() -> None:
    assert str(ResourceRef("workspace", "ws_1")) == "workspace/ws_1"
    assert str(ResourceRef("workspace")) == "workspace"
