"""``/v1/saved-searches``: search phrases kept under a name (scope ``events:read``).

Who may see, save and delete which is ``AuditLog``'s rule (``sealtrail.saved_searches``).
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from sealtrail.api import schemas
from sealtrail.server import deps
from sealtrail.server.requests import client_ip, read_json

router = APIRouter(prefix="/v1/saved-searches", tags=["saved searches"])

JSON = "application/json"


def _base_url(request: Request) -> str:
    return deps.settings(request).public_url or str(request.base_url)


@router.get(
    "",
    summary="The shared saved searches, and a viewer's own private ones",
    response_model=schemas.SavedSearchList,
    **schemas.operation(auth="key_or_viewer"),
)
def list_saved_searches(request: Request) -> Response:
    principal = deps.principal(request)
    found = deps.audit_log(request).saved_searches(principal)
    base = _base_url(request)
    body = {"saved_searches": [s.to_dict(base) for s in found]}
    return Response(orjson.dumps(body), media_type=JSON)


@router.post(
    "",
    status_code=201,
    summary="Save a search phrase under a name",
    response_model=schemas.SavedSearchOut,
    **schemas.operation(
        errors=(*schemas.BODY, 409),
        auth="key_or_viewer",
        body=schemas.json_body(schemas.SAVED_SEARCH_IN),
        responses={
            201: schemas.links(
                DeleteSavedSearch=("delete_saved_search", {"search_id": "$response.body#/id"})
            ),
            409: {"description": "the tenant keeps the most saved searches it may"},
        },
    ),
)
async def save_search(request: Request) -> Response:
    principal = deps.principal(request)
    body = await read_json(
        request,
        deps.settings(request).max_body_bytes,
        'a saved search: {"name", "phrase", "shared"?}',
    )
    log = deps.audit_log(request)
    search = await run_in_threadpool(log.save_search, principal, body, ip=client_ip(request))
    return Response(orjson.dumps(search.to_dict(_base_url(request))), 201, media_type=JSON)


@router.delete(
    "/{search_id}",
    status_code=204,
    summary="Delete a saved search",
    response_class=Response,
    **schemas.operation(errors=(404, 422), auth="key_or_viewer"),
)
def delete_saved_search(request: Request, search_id: str) -> Response:
    principal = deps.principal(request)
    deps.audit_log(request).delete_saved_search(principal, search_id, ip=client_ip(request))
    return Response(status_code=204)
