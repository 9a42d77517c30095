"""``/v1/retention``: the tenant's retention policy.

Reading it needs ``events:read``; replacing it ``events:erase`` and the whole tenant.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from sealtrail.api import schemas
from sealtrail.server import deps
from sealtrail.server.requests import read_json

router = APIRouter(prefix="/v1/retention", tags=["retention"])

JSON = "application/json"


@router.get(
    "",
    summary="The tenant's retention policy",
    response_class=Response,
    **schemas.operation(
        auth="key_or_viewer",
        responses={200: schemas.returns(schemas.RetentionOut, "the retention policy")},
    ),
)
def get_retention(request: Request) -> Response:
    principal = deps.principal(request)
    policy = deps.audit_log(request).retention(principal)
    body = {"tenant_id": principal.tenant_id, **policy.to_dict()}
    return Response(orjson.dumps(body), media_type=JSON)


@router.put(
    "",
    summary="Replace the tenant's retention policy (days: null keeps forever)",
    response_class=Response,
    **schemas.operation(
        errors=schemas.BODY,
        body=schemas.json_body(schemas.RETENTION_IN),
        responses={200: schemas.returns(schemas.RetentionOut, "the retention policy")},
    ),
)
async def put_retention(request: Request) -> Response:
    principal = deps.principal(request)
    body = await read_json(
        request,
        deps.settings(request).max_body_bytes,
        'a retention policy: {"days": N or null, "rules": [{"action_prefix", "days"}]}',
    )
    log = deps.audit_log(request)
    policy = await run_in_threadpool(log.set_retention, principal, body)
    out = {"tenant_id": principal.tenant_id, **policy.to_dict()}
    return Response(orjson.dumps(out), media_type=JSON)
