"""``GET /v1/catalog``: the event types a tenant sees."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from sealtrail.server import deps
from sealtrail.server.requests import read_json

router = APIRouter(tags=["catalog"])


@router.get("/v1/catalog", summary="Event types, categories and kinds for this tenant")
def catalog(request: Request) -> Response:
    found = deps.audit_log(request).catalog(deps.principal(request))
    body = {
        "categories": [
            {"slug": slug, "label": label, "actions": [t.name for t in types]}
            for slug, label, types in found.categories()
        ],
        "event_types": [t.to_dict() for t in found.types()],
    }
    return Response(orjson.dumps(body), media_type="application/json")


@router.post(
    "/v1/catalog",
    status_code=201,
    summary="Register (or replace) one of this tenant's own event types",
)
async def register_event_type(request: Request) -> Response:
    principal = deps.principal(request)
    body = await read_json(request, deps.settings(request).max_body_bytes)
    stored = await run_in_threadpool(deps.audit_log(request).register_event_type, principal, body)
    return Response(orjson.dumps(stored.to_dict()), 201, media_type="application/json")
