"""The served OpenAPI document says what the validator does: built from the same limits.

For every field of the event's request schema, the test checks that the validator
knows exactly the documented fields, and that each documented ``maxLength`` is
where the validator's own limit is: a value of that length passes, one longer is
refused with that field named.
"""

from __future__ import annotations

from typing import Any

import pytest

from sealtrail import events, limits
from sealtrail.api import schemas

from .conftest import Api


def _event_schema(api: Api) -> dict[str, Any]:
    document = api.client.get("/openapi.json").json()
    body = document["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    one, batch = body["schema"]["oneOf"]
    assert batch["properties"]["events"]["maxItems"] == limits.MAX_BATCH
    assert batch["properties"]["events"]["items"] == one
    schema: dict[str, Any] = one
    return schema


def test_the_documented_fields_are_the_validators(api: Api) -> None:
    schema = _event_schema(api)
    assert set(schema["properties"]) == events.EVENT_FIELDS
    assert set(schema["properties"]["actor"]["properties"]) == events.ACTOR_FIELDS
    assert set(schema["properties"]["target"]["properties"]) == events.TARGET_FIELDS
    assert set(schema["properties"]["resource"]["properties"]) == events.RESOURCE_FIELDS
    assert schema["properties"]["actor"]["properties"]["type"]["enum"] == list(limits.ACTOR_TYPES)
    assert schema["properties"]["outcome"]["enum"] == list(limits.OUTCOMES)


def _base() -> dict[str, Any]:
    return {
        "action": "member.invited",
        "actor": {"type": "user", "id": "u_1"},
        "target": {"type": "user", "id": "u_2"},
        "resource": {"type": "workspace", "id": "w_1"},
    }


def _value(path: str, length: int) -> str:
    if path == "action":
        return "a." + "b" * (length - 2)
    if path.endswith("email"):
        return "a" * (length - len("@x.io")) + "@x.io"
    return "x" * length


def _limited_fields() -> list[tuple[str, int]]:
    found = []
    for name, prop in schemas.EVENT_IN["properties"].items():
        if "maxLength" in prop:
            found.append((name, prop["maxLength"]))
        for inner, sub in prop.get("properties", {}).items():
            if "maxLength" in sub:
                found.append((f"{name}.{inner}", sub["maxLength"]))
    return found


@pytest.mark.parametrize(("path", "length"), _limited_fields())
def test_each_documented_max_length_is_the_validators(path: str, length: int) -> None:
    def errors_at(size: int) -> list[str]:
        body = _base()
        head, _, tail = path.partition(".")
        if tail:
            body[head][tail] = _value(path, size)
        else:
            body[head] = _value(path, size)
        _, found = events.validate_event(body)
        return [e.field for e in found]

    assert path not in errors_at(length), f"{path}: {length} characters should pass"
    assert path in errors_at(length + 1), f"{path}: {length + 1} characters should be refused"
