"""``GET /v1/catalog``: the event types a tenant sees."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from sealtrail.api import schemas
from sealtrail.events import format_timestamp
from sealtrail.server import deps
from sealtrail.server.requests import read_json

router = APIRouter(tags=["catalog"])


@router.get(
    "/v1/catalog",
    summary="Event types, categories and kinds for this tenant",
    response_model=schemas.CatalogOut,
    **schemas.operation(auth="key_or_viewer"),
)
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
    summary="Register one of this tenant's own event types (a new version of it)",
    response_model=schemas.EventTypeVersionOut,
    **schemas.operation(
        errors=(*schemas.BODY, 409),
        body=schemas.json_body(schemas.EVENT_TYPE_IN),
        responses={
            200: {
                "description": "The same type was already registered: nothing changed",
                "model": schemas.EventTypeVersionOut,
            },
            409: {"description": "The name is registered with another category or kind"},
        },
    ),
)
async def register_event_type(request: Request) -> Response:
    principal = deps.principal(request)
    body = await read_json(
        request,
        deps.settings(request).max_body_bytes,
        'an event type: {"name", "category", "kind", "description"}',
    )
    version, created = await run_in_threadpool(
        deps.audit_log(request).register_event_type, principal, body
    )
    payload = {
        **version.event_type.to_dict(),
        "version": version.version,
        "registered_at": format_timestamp(version.registered_at),
    }
    return Response(orjson.dumps(payload), 201 if created else 200, media_type="application/json")
