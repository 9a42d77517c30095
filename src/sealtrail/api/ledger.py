"""Checkpoints and proofs (SPEC §3, §6)."""

from __future__ import annotations

import base64

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from sealtrail.api import schemas
from sealtrail.errors import InvalidQuery
from sealtrail.server import deps
from sealtrail.server.requests import query_lists

router = APIRouter(tags=["proofs"])
JSON = "application/json"


def _integers(
    request: Request, required: tuple[str, ...], optional: tuple[str, ...]
) -> dict[str, int | None]:
    params = query_lists(request, allowed=(*required, *optional))
    out: dict[str, int | None] = {}
    for name in (*required, *optional):
        values = params.get(name)
        if not values:
            if name in required:
                raise InvalidQuery(f"{name} is required", name)
            out[name] = None
            continue
        if len(values) > 1:
            raise InvalidQuery(f"{name} is given more than once", name)
        try:
            number = int(values[0])
        except ValueError:
            raise InvalidQuery(f"{name} must be a non-negative integer", name) from None
        if number < 0:
            raise InvalidQuery(f"{name} must be a non-negative integer", name)
        out[name] = number
    return out


@router.get(
    "/v1/checkpoint",
    summary="The latest signed checkpoint (signs one if the tree grew)",
    response_model=schemas.CheckpointOut,
    **schemas.operation(errors=(500,), auth="key_or_viewer"),
)
def checkpoint(request: Request) -> Response:
    found = deps.audit_log(request).checkpoint(deps.principal(request))
    body = {
        "checkpoint": found.note,
        "tree_size": found.tree_size,
        "root_hash": base64.b64encode(found.root_hash).decode("ascii"),
        "verifier_key": found.verifier_key,
    }
    return Response(orjson.dumps(body), media_type=JSON)


@router.get(
    "/v1/proofs/inclusion",
    summary="Inclusion proof of leaf seq in the tree of size",
    response_model=schemas.InclusionOut,
    **schemas.operation(
        errors=(404, 422, 500), auth="key_or_viewer", parameters=schemas.INCLUSION_PARAMETERS
    ),
)
def inclusion(request: Request) -> Response:
    principal = deps.principal(request)
    args = _integers(request, ("seq",), ("size",))
    seq = args["seq"]
    assert seq is not None
    body = deps.audit_log(request).inclusion_proof(principal, seq, args["size"])
    return Response(orjson.dumps(body), media_type=JSON)


@router.get(
    "/v1/proofs/consistency",
    summary="Consistency proof between two tree sizes",
    response_model=schemas.ConsistencyOut,
    **schemas.operation(
        errors=(422, 500), auth="key_or_viewer", parameters=schemas.CONSISTENCY_PARAMETERS
    ),
)
def consistency(request: Request) -> Response:
    principal = deps.principal(request)
    args = _integers(request, ("first",), ("second",))
    first = args["first"]
    assert first is not None
    body = deps.audit_log(request).consistency_proof(principal, first, args["second"])
    return Response(orjson.dumps(body), media_type=JSON)
