"""``GET /v1/catalog``: the event types a tenant sees."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from sealtrail.api import deps
from sealtrail.api.requests import read_json
from sealtrail.catalog import KINDS, EventType
from sealtrail.errors import FieldError, InvalidEvent

router = APIRouter(tags=["catalog"])


@router.get("/v1/catalog", summary="Event types, categories and kinds for this tenant")
def catalog(request: Request) -> Response:
    principal = deps.principal(request)
    found = deps.audit_log(request).catalog(principal.tenant_id)
    body = {
        "categories": [
            {"slug": slug, "label": label, "actions": [t.name for t in types]}
            for slug, label, types in found.categories()
        ],
        "event_types": [t.to_dict() for t in found.types()],
    }
    return Response(orjson.dumps(body), media_type="application/json")


_TYPE_FIELDS = {"name", "category", "kind", "description", "expects_target", "resource_type"}


@router.post(
    "/v1/catalog",
    status_code=201,
    summary="Register (or replace) one of this tenant's own event types",
)
async def register_event_type(request: Request) -> Response:
    principal = deps.principal(request)
    principal.require("events:write")
    body = await read_json(request, deps.settings(request).max_body_bytes)
    event_type = _event_type(body)
    stored = await run_in_threadpool(
        deps.audit_log(request).register_event_type, principal.tenant_id, event_type
    )
    return Response(orjson.dumps(stored.to_dict()), 201, media_type="application/json")


def _event_type(body: object) -> EventType:
    if not isinstance(body, dict):
        raise InvalidEvent(
            "an event type is a JSON object", [FieldError("type", "must be an object")]
        )
    problems = [FieldError(k, "is not a known field") for k in body if k not in _TYPE_FIELDS]
    for key in ("name", "category", "kind", "description"):
        if not isinstance(body.get(key), str):
            problems.append(FieldError(key, "is required and must be a string"))
    if not isinstance(body.get("expects_target", False), bool):
        problems.append(FieldError("expects_target", "must be true or false"))
    if not isinstance(body.get("resource_type"), str | None):
        problems.append(FieldError("resource_type", "must be a string"))
    if body.get("kind") not in KINDS:
        problems.append(FieldError("kind", f"must be one of {', '.join(KINDS)}"))
    if problems:
        raise InvalidEvent("the event type is invalid", problems)
    return EventType(
        name=body["name"],
        category=body["category"],
        kind=body["kind"],
        description=body["description"],
        expects_target=body.get("expects_target", False),
        resource_type=body.get("resource_type"),
        builtin=False,
    )
