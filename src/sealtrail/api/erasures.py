"""``/v1/erasures``: erase a data subject's personal fields (scope ``events:erase``)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, BackgroundTasks, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from sealtrail.api import schemas
from sealtrail.privacy import ErasureRequest
from sealtrail.server import deps
from sealtrail.server.requests import read_json

router = APIRouter(prefix="/v1/erasures", tags=["erasures"])

JSON = "application/json"


@router.post(
    "",
    status_code=202,
    summary="Erase a data subject: by email, or by user id as actor or target",
    response_model=schemas.ErasureOut,
    **schemas.operation(
        errors=schemas.BODY,
        body=schemas.json_body(schemas.ERASURE_IN),
        responses={
            200: {"description": "a dry run: nothing changed", "model": schemas.ErasureOut},
            202: schemas.links(
                GetErasure=("get_erasure", {"erasure_id": "$response.body#/erasure_id"})
            ),
        },
    ),
)
async def request_erasure(request: Request, background: BackgroundTasks) -> Response:
    principal = deps.principal(request)
    body = await read_json(
        request,
        deps.settings(request).max_body_bytes,
        'an erasure: {"subject": {"email" or "id": ...}, "reason"}',
    )
    wanted = ErasureRequest.from_body(body)
    log = deps.audit_log(request)
    erasure = await run_in_threadpool(
        log.erase, principal, wanted.subject, wanted.reason, dry_run=wanted.dry_run
    )
    if erasure.status == "running" and erasure.erasure_id is not None:
        background.add_task(log.run_erasure, principal.tenant_id, erasure.erasure_id)
    status = 200 if wanted.dry_run else 202
    return Response(orjson.dumps(erasure.to_dict()), status, media_type=JSON)


@router.get(
    "/{erasure_id}",
    summary="An erasure's progress",
    response_model=schemas.ErasureOut,
    **schemas.operation(errors=(404, 422)),
)
def get_erasure(request: Request, erasure_id: str) -> Response:
    principal = deps.principal(request)
    erasure = deps.audit_log(request).erasure(principal, erasure_id)
    return Response(orjson.dumps(erasure.to_dict()), media_type=JSON)
