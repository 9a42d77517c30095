"""The seed product's endpoint, for drop-in compatibility (SPEC §6)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from sealtrail.api import schemas
from sealtrail.query import seed_query_from_params
from sealtrail.server import deps
from sealtrail.server.requests import client_ip, query_lists

router = APIRouter(tags=["compatibility"])


@router.get(
    "/api/organization/rbac/members/audit-log",
    summary="Members audit log, as the seed product serves it",
    response_model=schemas.SeedPage,
    **schemas.operation(errors=(422,), auth="key_or_viewer", parameters=schemas.SEED_PARAMETERS),
)
def members_audit_log(request: Request) -> Response:
    principal = deps.principal(request)
    query, page = seed_query_from_params(query_lists(request))
    log = deps.audit_log(request)
    result = log.search(principal, query, page, with_total=False, ip=client_ip(request))
    total = log.count(principal, query, cap=None)
    body = {
        "events": [e.to_dict() for e in result.events],
        "total": total,
        "limit": page.limit,
        "offset": page.offset,
    }
    if principal.kind == "api_key":
        request.app.state.metrics.api_key_reads.labels("seed").inc()
    return Response(orjson.dumps(body), media_type="application/json")
