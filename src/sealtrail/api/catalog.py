"""``GET /v1/catalog``: the event types a tenant sees."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from sealtrail.api import deps

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
