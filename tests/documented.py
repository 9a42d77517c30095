"""Real responses checked against the served ``/openapi.json``: the schema its operation
documents for its status, with jsonschema.

``check_every_response(client)`` hooks a TestClient so that each JSON response of a
documented operation is checked as the test reads it: the status must be one the
operation documents, and the body must be valid against that status's schema. The API
tests (tests/api, tests/stream_api) run with it, so every branch they reach — a failing
stream, a v1a key, an acknowledged alert — is a branch the document must allow. The fuzz
run checks the same with generated requests; this checks the states generated requests
rarely reach.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx
import orjson
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

JSON = "application/json"


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")


class Documented:
    """The served document's response schemas, by operation and status."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._document = document
        paths: Mapping[str, Any] = document["paths"]
        # Literal paths first: /v1/events/export is not /v1/events/{event_id}.
        ordered = sorted(paths, key=lambda p: "{" in p)
        self._paths = [(_template(p), paths[p]) for p in ordered]
        self._validators: dict[int, Draft202012Validator] = {}

    def operation(self, method: str, path: str) -> Mapping[str, Any] | None:
        for pattern, operations in self._paths:
            if pattern.match(path):
                found: Mapping[str, Any] | None = operations.get(method.lower())
                return found
        return None

    def validator(self, schema: Mapping[str, Any]) -> Draft202012Validator:
        """A validator for one response schema, its ``#/components/…`` references resolved
        in the document."""
        key = id(schema)
        if key not in self._validators:
            root = {**schema, "components": self._document.get("components", {})}
            self._validators[key] = Draft202012Validator(root)
        return self._validators[key]

    def problems(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """What is wrong with a response body by the document; [] when it conforms (or the
        operation is not documented: the router's 404s and 405s)."""
        operation = self.operation(method, path)
        if operation is None:
            return []
        responses = operation["responses"]
        if str(status) not in responses:
            return [f"{status} is not a documented status of {method} {path}"]
        schema = responses[str(status)].get("content", {}).get(JSON, {}).get("schema")
        if schema is None:
            return [f"{status} of {method} {path} documents no JSON body"]
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
            for e in self.validator(schema).iter_errors(body)
        ]


def check_every_response(client: TestClient) -> Documented:
    """Check each JSON response ``client`` receives against the app's document (see the
    module's docstring); a response that does not conform fails the request."""
    documented = Documented(client.app.openapi())  # type: ignore[attr-defined]

    def check(response: httpx.Response) -> None:
        if not response.headers.get("content-type", "").startswith(JSON):
            return  # never read here: a live tail's body does not end
        response.read()
        request = response.request
        problems = documented.problems(
            request.method, request.url.path, response.status_code, orjson.loads(response.content)
        )
        assert not problems, (
            f"{request.method} {request.url.path} → {response.status_code} is not what "
            f"/openapi.json documents: {problems}\n{response.text[:2000]}"
        )

    client.event_hooks["response"].append(check)
    return documented
