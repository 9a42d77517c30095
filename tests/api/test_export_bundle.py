"""The bundle export over HTTP: its media type and name, and errors before any byte."""

from __future__ import annotations

import sqlite3

import orjson

from sealtrail.auth import Principal

from .conftest import Api, event


def test_a_bundle_is_served_as_ndjson(api: Api) -> None:
    api.post({"events": [event(f"e{i}") for i in range(3)]})
    response = api.get("/v1/events/export", format="bundle")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="sealtrail-acme-')
    assert disposition.endswith('.bundle.ndjson"')
    lines = [orjson.loads(line) for line in response.content.splitlines()]
    assert lines[0]["sealtrail_bundle"] == 1
    assert lines[-1] == {"end": True, "events": 4}  # three events and the export itself


def test_a_log_that_cannot_be_signed_answers_an_error_before_any_byte(api: Api) -> None:
    api.post({"events": [event(f"e{i}") for i in range(3)]})
    api.log.checkpoint(Principal.operator("acme"))
    path = api.log.database_url.removeprefix("sqlite:///")
    connection = sqlite3.connect(path)
    connection.execute("UPDATE tenants SET frontier = zeroblob(64) WHERE id = 'acme'")
    connection.commit()
    connection.close()
    api.log.ingest(Principal.operator("acme"), {"events": [event("late")]})
    response = api.get("/v1/events/export", format="bundle")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "inconsistent_tree"
    assert "not consistent with the signed tree" in error["message"]
