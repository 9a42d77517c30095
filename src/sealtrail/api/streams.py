"""``/v1/streams``: deliver the tenant's trail to its SIEM (scope ``streams:manage``).

Create, list, read, change (``PATCH``; ``{"status": "paused"|"active"}`` pauses and
resumes), delete; send a signed test message; replay from a seq; rotate a webhook's
signing secret; read the delivery log. Every rule is ``AuditLog``'s.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from sealtrail.api import schemas
from sealtrail.errors import InvalidInput
from sealtrail.events import now_micros
from sealtrail.limits import DEFAULT_SECRET_OVERLAP, MAX_STREAMS_PER_TENANT, STREAM_DELIVERY_LOG
from sealtrail.server import deps
from sealtrail.server.requests import query_lists, read_json
from sealtrail.streams.config import SigningChoice, StreamSpec

router = APIRouter(prefix="/v1/streams", tags=["streams"])

JSON = "application/json"
_STREAM_OK = schemas.returns(schemas.StreamOut, "the stream")
_STREAM = (
    'a stream: {"name", "destination": {"type": "webhook", "url"} | {"type": "syslog",'
    ' "host", "port", "tls"}, "format", "filter"?, "signing"?: {"scheme": "v1" | "v1a"}}'
)


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type=JSON)


async def _body(request: Request, expected: str) -> Any:
    return await read_json(request, deps.settings(request).max_body_bytes, expected)


def _whole(value: Any) -> Any:
    """A JSON number with no fraction as the integer it is (``5.0`` is 5 in JSON)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _object(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidInput(f"{unknown[0]!r} is not a member of this request")
    return body


@router.post(
    "",
    status_code=201,
    summary=(
        "Create a stream; a webhook's generated v1 secret is returned once, a v1a stream's"
        " public key always"
    ),
    response_class=Response,
    **schemas.operation(
        errors=(*schemas.BODY, 409),
        body=schemas.json_body(schemas.STREAM_IN),
        responses={
            201: {
                **schemas.returns(
                    schemas.CreatedStreamOut,
                    "the stream; a webhook's generated v1 secret is in this answer only",
                ),
                **schemas.links(GetStream=("get_stream", {"stream_id": "$response.body#/id"})),
            },
            409: {"description": f"the tenant has {MAX_STREAMS_PER_TENANT} streams, the most"},
        },
    ),
)
async def create_stream(request: Request) -> Response:
    principal = deps.principal(request)
    body = await _body(request, _STREAM)
    spec = StreamSpec.from_body(body)
    signing = SigningChoice.from_body(body) if body.get("signing") is not None else None
    created = await run_in_threadpool(
        deps.audit_log(request).create_stream, principal, spec, signing
    )
    return _json(created.to_dict(now_micros()), 201)


@router.get(
    "",
    summary="The tenant's streams, with how their delivery is going",
    response_class=Response,
    **schemas.operation(
        errors=(422,), responses={200: schemas.returns(schemas.StreamList, "the streams")}
    ),
)
def list_streams(request: Request) -> Response:
    principal = deps.principal(request)
    query_lists(request, allowed=())
    views = deps.audit_log(request).streams(principal)
    now = now_micros()
    return _json({"streams": [v.to_dict(now) for v in views]})


@router.get(
    "/{stream_id}",
    summary="One stream",
    response_class=Response,
    **schemas.operation(errors=(404, 422), responses={200: _STREAM_OK}),
)
def get_stream(request: Request, stream_id: str) -> Response:
    principal = deps.principal(request)
    view = deps.audit_log(request).get_stream(principal, stream_id)
    return _json(view.to_dict(now_micros()))


@router.patch(
    "/{stream_id}",
    summary='Change a stream; {"status": "paused"} pauses it, "active" resumes it',
    response_class=Response,
    **schemas.operation(
        errors=(*schemas.BODY, 404, 409),
        body=schemas.json_body(schemas.STREAM_CHANGE_IN),
        responses={200: _STREAM_OK, 409: {"description": "another stream has that name"}},
    ),
)
async def update_stream(request: Request, stream_id: str) -> Response:
    principal = deps.principal(request)
    body = await _body(request, "the members to change: name, destination, format, filter, status")
    view = await run_in_threadpool(
        deps.audit_log(request).update_stream, principal, stream_id, body
    )
    return _json(view.to_dict(now_micros()))


@router.delete(
    "/{stream_id}",
    status_code=204,
    summary="Delete a stream and its delivery log",
    response_class=Response,
    **schemas.operation(errors=(404, 422)),
)
def delete_stream(request: Request, stream_id: str) -> Response:
    principal = deps.principal(request)
    deps.audit_log(request).delete_stream(principal, stream_id)
    return Response(status_code=204)


@router.post(
    "/{stream_id}/test",
    summary="Send the stream a signed test message now",
    response_class=Response,
    **schemas.operation(
        errors=(404, 422),
        responses={200: schemas.returns(schemas.StreamTestOut, "the attempt, as logged")},
    ),
)
async def test_stream(request: Request, stream_id: str) -> Response:
    principal = deps.principal(request)
    delivery = await run_in_threadpool(deps.audit_log(request).test_stream, principal, stream_id)
    return _json({"delivery": delivery.to_dict()})


@router.post(
    "/{stream_id}/replay",
    status_code=202,
    summary="Deliver the stream again from a seq of the log",
    response_class=Response,
    **schemas.operation(
        errors=(*schemas.BODY, 404),
        body=schemas.json_body(schemas.REPLAY_IN),
        responses={202: _STREAM_OK},
    ),
)
async def replay_stream(request: Request, stream_id: str) -> Response:
    principal = deps.principal(request)
    body = _object(await _body(request, '{"from_seq": <seq>}'), {"from_seq"})
    if "from_seq" not in body:
        raise InvalidInput('a replay needs {"from_seq": <seq>}')
    view = await run_in_threadpool(
        deps.audit_log(request).replay_stream, principal, stream_id, _whole(body["from_seq"])
    )
    return _json(view.to_dict(now_micros()), 202)


@router.post(
    "/{stream_id}/rotate-secret",
    summary=(
        "A new webhook signing key (a generated v1 secret is returned once); the old one"
        " signs on for a while"
    ),
    response_class=Response,
    **schemas.operation(
        errors=(*schemas.BODY, 404),
        body=schemas.ROTATE_IN,
        responses={
            200: schemas.returns(
                schemas.WebhookStreamNewKeyOut,
                "the stream with its new key; a generated v1 secret is in this answer only",
            )
        },
    ),
)
async def rotate_secret(request: Request, stream_id: str) -> Response:
    principal = deps.principal(request)
    raw = await request.body()
    overlap = DEFAULT_SECRET_OVERLAP
    signing = None
    if raw.strip():
        body = _object(
            await _body(request, '{"overlap_seconds": <seconds>, "signing"?: {"scheme"}}'),
            {"overlap_seconds", "signing"},
        )
        overlap = _whole(body.get("overlap_seconds", DEFAULT_SECRET_OVERLAP))
        if isinstance(overlap, bool) or not isinstance(overlap, int):
            raise InvalidInput("overlap_seconds must be an integer")
        if "signing" in body:
            signing = SigningChoice.from_body(body)
    rotated = await run_in_threadpool(
        deps.audit_log(request).rotate_stream_secret, principal, stream_id, overlap, signing
    )
    return _json(rotated.to_dict(now_micros()))


@router.get(
    "/{stream_id}/deliveries",
    summary=f"The stream's delivery log: its latest {STREAM_DELIVERY_LOG} attempts",
    response_class=Response,
    **schemas.operation(
        errors=(404, 422),
        parameters=[
            schemas.param(
                "limit", "attempts, newest first", schemas.integer(1, STREAM_DELIVERY_LOG)
            )
        ],
        responses={200: schemas.returns(schemas.DeliveryLog, "the attempts, newest first")},
    ),
)
def stream_deliveries(request: Request, stream_id: str) -> Response:
    principal = deps.principal(request)
    params = query_lists(request, allowed=("limit",))
    limit = STREAM_DELIVERY_LOG
    if "limit" in params:
        text = params["limit"][-1]
        if not text.isdigit():
            raise InvalidInput(f"limit must be an integer 1-{STREAM_DELIVERY_LOG}")
        limit = int(text)
    found = deps.audit_log(request).stream_deliveries(principal, stream_id, limit)
    return _json({"deliveries": [d.to_dict() for d in found]})
