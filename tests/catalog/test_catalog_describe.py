"""Description templates render user data safely."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealtrail.catalog import Catalog

HOSTILE = [
    "{0.__class__}",
    "{}",
    "{actor}",
    "{target.__init__.__globals__}",
    "%s%s%(x)s",
    "{{}}",
    "}{",
    "\\1 \\g<0>",
    "$actor ${target}",
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.builtin()


def test_renders_the_template(catalog: Catalog) -> None:
    text = catalog.describe(
        "member.role_changed", actor="admin@company.com", target="team@company.com", resource=None
    )
    assert text == "admin@company.com changed the role of team@company.com"
    text = catalog.describe(
        "workspace.member_added", actor="Ann", target="Bob", resource="Sales", resource_id="ws_1"
    )
    assert text == "Ann added Bob to workspace Sales"


@pytest.mark.parametrize("value", HOSTILE)
def test_values_are_never_read_as_templates(catalog: Catalog, value: str) -> None:
    text = catalog.describe("workspace.member_added", actor=value, target=value, resource=value)
    assert text == f"{value} added {value} to workspace {value}"


def test_missing_values_read_sensibly(catalog: Catalog) -> None:
    assert catalog.describe("member.invited", actor="", target=None, resource=None) == (
        "Someone invited someone"
    )
    assert catalog.describe("app.deleted", actor="Ann", target=None, resource=None) == (
        "Ann deleted app (unknown)"
    )
    assert catalog.describe(
        "app.deleted", actor="Ann", target=None, resource=None, resource_id="app_1"
    ) == ("Ann deleted app app_1")
    assert catalog.describe("app.deleted", actor="Ann", target="  ", resource="\n") == (
        "Ann deleted app (unknown)"
    )


def test_resource_type_falls_back_to_the_types_then_a_generic_word(catalog: Catalog) -> None:
    db = catalog.describe("db.update", actor="Ann", target=None, resource="r1")
    assert db == "Ann updated resource r1 in the database"
    table = catalog.describe(
        "db.update", actor="Ann", target=None, resource="r1", resource_type="table"
    )
    assert table == "Ann updated table r1 in the database"


def test_line_breaks_and_control_characters_become_spaces(catalog: Catalog) -> None:
    text = catalog.describe(
        "member.invited", actor="Ann\r\nEvil", target="Bob\u2028\x00x", resource=None
    )
    assert text == "Ann Evil invited Bob x"


def test_other_unicode_is_kept(catalog: Catalog) -> None:
    name = "\u202eevil\u202c Zoë 👩‍💻 مرحبا"
    text = catalog.describe("member.invited", actor=name, target=name, resource=None)
    assert text == f"{name} invited {name}"


def test_long_values_are_cut_to_the_description_limit(catalog: Catalog) -> None:
    text = catalog.describe("member.invited", actor="a" * 5000, target="b", resource=None)
    assert len(text) == 1000
    assert text.endswith("…")


@given(actor=st.text(), target=st.text(), resource=st.text())
def test_any_values_render_without_error(actor: str, target: str, resource: str) -> None:
    text = Catalog.builtin().describe(
        "workspace.member_added", actor=actor, target=target, resource=resource
    )
    assert "\n" not in text
    assert len(text) <= 1000


def test_every_builtin_template_renders_its_placeholders(catalog: Catalog) -> None:
    for event_type in catalog.types():
        text = catalog.describe(
            event_type.name,
            actor="A",
            target="T",
            resource="R",
            resource_type="RT",
            resource_id="RI",
        )
        assert "{" not in text
        assert "}" not in text
