"""The served OpenAPI document says what the validator does: built from the same limits.

For every field of the event's request schema, the test checks that the validator
knows exactly the documented fields, and that each documented ``maxLength`` is
where the validator's own limit is: a value of that length passes, one longer is
refused with that field named.
"""

from __future__ import annotations

import re
from typing import Any, Final

import pytest
from jsonschema import Draft202012Validator

from sealtrail import events, limits, retention
from sealtrail.api import schemas
from sealtrail.detections import rules
from sealtrail.errors import InvalidInput
from sealtrail.query.params import EVENT_PARAMETERS, SEED_PARAMETERS
from tests.documented import Documented

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


def _document(api: Api) -> dict[str, Any]:
    document: dict[str, Any] = api.client.get("/openapi.json").json()
    return document


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("/v1/proofs/inclusion", {"seq", "size"}),
        ("/v1/proofs/consistency", {"first", "second"}),
        ("/api/organization/rbac/members/audit-log", set(SEED_PARAMETERS)),
        ("/v1/events", set(EVENT_PARAMETERS)),
    ],
)
def test_every_parameter_the_code_reads_is_documented(api: Api, path: str, names: set[str]) -> None:
    operation = _document(api)["paths"][path]["get"]
    assert {p["name"] for p in operation["parameters"]} == names


def test_every_operation_declares_its_errors_and_credentials(api: Api) -> None:
    document = _document(api)
    assert set(document["components"]["securitySchemes"]) == {schemas.BEARER, schemas.VIEWER}
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert "security" in operation, where
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    assert response["content"] == {"application/json": {"schema": error}}, where
            if operation["security"]:
                assert {"401", "403"} <= set(operation["responses"]), where


def test_bodies_and_content_types(api: Api) -> None:
    paths = _document(api)["paths"]
    assert "requestBody" in paths["/v1/catalog"]["post"]
    assert "requestBody" in paths["/v1/erasures"]["post"]
    metrics = paths["/metrics"]["get"]["responses"]["200"]["content"]
    assert [m.split(";")[0] for m in metrics] == ["text/plain"]
    export = paths["/v1/events/export"]["get"]["responses"]["200"]["content"]
    assert {m.split(";")[0] for m in export} == {"text/csv", "application/x-ndjson"}


def test_a_405_says_which_methods_the_path_answers(api: Api) -> None:
    response = api.client.delete("/v1/events", headers=api.headers())
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert api.client.put("/v1/events/export").headers["allow"] == "GET"


def test_a_whole_number_written_with_a_fraction_is_that_integer(api: Api) -> None:
    """JSON has one number type: 514.0 is the integer the document's `integer` allows
    (found by the fuzzer: the stream routes refused it)."""
    headers = api.headers(scopes="streams:manage")
    destination = {"type": "syslog", "host": "siem.example.com", "port": 514.0}
    created = api.client.post(
        "/v1/streams",
        json={"name": "siem", "destination": destination, "format": "json"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["destination"]["port"] == 514
    stream = created.json()["id"]
    replay = api.client.post(
        f"/v1/streams/{stream}/replay", json={"from_seq": 0.0}, headers=headers
    )
    assert replay.status_code == 202, replay.text
    assert (
        api.client.post(
            f"/v1/streams/{stream}/replay", json={"from_seq": 0.5}, headers=headers
        ).status_code
        == 422
    )


def test_a_detection_rule_is_documented_as_the_code_reads_it(api: Api) -> None:
    """Found by fuzzing: the rule bodies were documented as any object, so a generated
    ``{}`` was "valid" and refused. Now each documented field is one the code reads, and
    bodies the document allows are taken, ones it forbids refused."""
    body = _document(api)["paths"]["/v1/detections"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert set(schema["properties"]) == {*rules.RULE_FIELDS, "builtin"}
    validator = Draft202012Validator(schema)
    allowed = [
        {"name": "Big-Exports", "phrase": "category:export", "severity": "high"},
        {
            "name": "n1",
            "phrase": " action:auth.login ",
            "severity": "low",
            "title": " Logins ",
            "condition": None,
            "context": {"method": ["sso"]},
            "hours": None,
            "enabled": False,
            "builtin": "ignored",
        },
    ]
    forbidden = [
        {},
        {"name": "a b", "phrase": "x", "severity": "high"},
        {"name": "-a", "phrase": "x", "severity": "high"},
        {"name": "a", "phrase": " ", "severity": "high"},
        {"name": "a", "phrase": "x", "severity": "urgent"},
        {"name": "a", "phrase": "x", "severity": "low", "title": "\x1c"},
        {"name": "a", "phrase": "x", "severity": "low", "context": {"k": []}},
        {"name": "a", "phrase": "x", "severity": "low", "extra": 1},
    ]
    for good in allowed:
        assert validator.is_valid(good), good
        rules.rule_from_body(good)
    for bad in forbidden:
        assert not validator.is_valid(bad), bad
        with pytest.raises(InvalidInput):
            rules.rule_from_body(bad)


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")


def test_one_path_answers_one_set_of_methods(api: Api) -> None:
    """Found by fuzzing: ``POST /v1/detections/test`` sat where ``/v1/detections/{name}``
    (GET, PATCH, DELETE) matches too, so ``Allow`` there named methods the document does not
    give that path. A documented path that another template also matches (SPEC §6's
    ``/v1/events/export`` beside ``/v1/events/{event_id}``) must answer the same methods."""
    paths = _document(api)["paths"]
    for literal in (p for p in paths if "{" not in p):
        for template in (t for t in paths if "{" in t and _template(t).match(literal)):
            assert set(paths[literal]) == set(paths[template]), f"{literal} is also {template}"
    answer = api.client.options("/v1/detection-tests", headers=api.headers())
    assert answer.headers["allow"] == "POST"


_SAYS_SOMETHING: Final = ("properties", "additionalProperties", "$ref", "anyOf", "oneOf", "allOf")


def test_no_json_response_is_documented_as_any_object(api: Api) -> None:
    """A generated client gets nothing from ``{"type": "object"}``, and the fuzz run's
    response check cannot fail on it: every JSON response names its members (or refers to a
    schema that does). 22 did not (the streams, detections, alerts and retention routes)."""
    bare = []
    for path, operations in _document(api)["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if schema is not None and not any(k in schema for k in _SAYS_SOMETHING):
                    bare.append(f"{method.upper()} {path} {status}: {schema}")
    assert not bare, "\n".join(bare)


def test_the_response_shapes_are_closed(api: Api) -> None:
    """The shapes of stream_admin's, detections' and retention's ``to_dict`` are closed, so a
    member the code starts writing fails until it is documented; their enums are the code's."""
    components = _document(api)["components"]["schemas"]
    for name in ("WebhookStreamOut", "SyslogStreamOut", "DeliveryAttemptOut", "RuleOut"):
        assert components[name]["additionalProperties"] is False, name
    for name in ("AlertOut", "AlertPage", "RetentionOut", "ReplayAlertOut"):
        assert components[name]["additionalProperties"] is False, name
    stream = components["SyslogStreamOut"]["properties"]
    assert stream["status"]["enum"] == ["active", "paused", "failing"]
    assert stream["format"]["enum"] == list(limits.STREAM_FORMATS)
    alert = components["AlertOut"]["properties"]
    assert alert["status"]["enum"] == list(limits.ALERT_STATUSES)
    assert alert["severity"]["enum"] == list(limits.SEVERITIES)
    assert "secret" not in components["WebhookStreamOut"]["properties"]
    assert "secret" not in components["WebhookStreamNewKeyOut"]["required"]


def test_a_response_the_document_does_not_allow_fails_the_request(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API tests' check (tests/documented.py) is on, and catches a member added,
    one missing, and a value of the wrong type."""
    shown = api.get("/v1/retention")
    assert shown.status_code == 200
    documented = Documented(api.client.app.openapi())  # type: ignore[attr-defined]
    body = shown.json()
    assert documented.problems("GET", "/v1/retention", 200, body) == []
    assert documented.problems("GET", "/v1/retention", 200, {**body, "extra": 1})
    assert documented.problems("GET", "/v1/retention", 200, {"days": None, "rules": []})
    assert documented.problems("GET", "/v1/retention", 200, {**body, "days": "30"})
    assert documented.problems("GET", "/v1/retention", 201, body)  # not a documented status

    def with_a_new_member(policy: retention.RetentionPolicy) -> dict[str, Any]:
        return {"days": policy.days, "rules": [], "undocumented": True}

    monkeypatch.setattr(retention.RetentionPolicy, "to_dict", with_a_new_member)
    with pytest.raises(AssertionError, match="undocumented"):
        api.get("/v1/retention")
