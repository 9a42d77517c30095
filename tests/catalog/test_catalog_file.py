"""catalog.toml is validated when it is loaded."""

from __future__ import annotations

import pytest

from sealtrail.catalog import Catalog
from sealtrail.errors import ConfigurationError

GOOD_TYPE = '{ name = "a.b", kind = "create", description = "{actor} did it" }'


def catalog_file(types: str = GOOD_TYPE, *, slug: str = "misc", extra: str = "") -> str:
    return f"""
version = 1
{extra}
[[category]]
slug = "{slug}"
label = "Misc"
types = [{types}]
"""


def test_a_good_file_loads() -> None:
    catalog = Catalog.from_toml(catalog_file())
    assert [t.name for t in catalog.types()] == ["a.b"]
    assert catalog.categories()[0][:2] == ("misc", "Misc")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version = ", "not valid TOML"),
        ("version = 2", "version"),
        (catalog_file(extra="colour = 1"), "unknown keys"),
        ("version = 1", "category"),
        (catalog_file(slug="Misc"), "slug"),
        (catalog_file(GOOD_TYPE + ", " + GOOD_TYPE), "declared twice"),
        (catalog_file(GOOD_TYPE) + catalog_file(GOOD_TYPE).replace("version = 1", ""), "twice"),
        (catalog_file('{ name = "a", kind = "create", description = "x" }'), "resource.verb"),
        (catalog_file('{ name = "A.b", kind = "create", description = "x" }'), "resource.verb"),
        (catalog_file('{ name = "a.b", kind = "made", description = "x" }'), "kind"),
        (catalog_file('{ name = "a.b", kind = "create" }'), "missing keys"),
        (catalog_file('{ name = "a.b", kind = "create", description = "x", x = 1 }'), "unknown"),
        (catalog_file('{ name = "a.b", kind = "create", description = "{who}" }'), "placeholder"),
        (catalog_file('{ name = "a.b", kind = "create", description = "x }" }'), "brace"),
        (
            catalog_file('{ name = "a.b", kind = "create", description = "x", target = 1 }'),
            "target",
        ),
        (
            catalog_file('{ name = "a.b", kind = "create", description = "x", resource = 1 }'),
            "resource",
        ),
        (catalog_file("1"), "table"),
    ],
)
def test_a_bad_file_names_the_problem(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Catalog.from_toml(text, source="test.toml")
