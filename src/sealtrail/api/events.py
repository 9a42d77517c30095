"""``/v1/events``: record, search, read one, export."""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from sealtrail.api import schemas
from sealtrail.auth import Principal
from sealtrail.errors import InvalidQuery
from sealtrail.export import CSV_MEDIA_TYPE, NDJSON_MEDIA_TYPE
from sealtrail.limits import EXPORT_FORMATS, MAX_BATCH
from sealtrail.query import query_from_params
from sealtrail.server import deps
from sealtrail.server.requests import client_ip, query_lists, read_json
from sealtrail.timeline import parse_buckets

router = APIRouter(prefix="/v1/events", tags=["events"])

JSON = "application/json"
_SAFE_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


@router.post(
    "",
    status_code=201,
    summary=f"Record one event or a batch of up to {MAX_BATCH}",
    response_model=schemas.IngestResponse,
    **schemas.operation(
        errors=schemas.BODY,
        body=schemas.INGEST_BODY,
        responses={
            201: schemas.links(
                GetEventById=("get_event", {"event_id": "$response.body#/events/0/id"}),
                GetEventProofFile=("get_event_proof", {"event_id": "$response.body#/events/0/id"}),
                GetInclusionProof=("inclusion", {"seq": "$response.body#/events/0/seq"}),
            )
        },
    ),
)
async def record_events(request: Request) -> Response:
    principal = deps.principal(request)
    body = await read_json(
        request, deps.settings(request).max_body_bytes, 'a JSON event or {"events": [...]}'
    )
    receipts = await run_in_threadpool(deps.audit_log(request).ingest, principal, body)
    metrics = request.app.state.metrics
    created = sum(1 for r in receipts if r.created)
    metrics.events_ingested.inc(created)
    metrics.events_duplicate.inc(len(receipts) - created)
    payload = {"events": [{"id": r.id, "seq": r.seq} for r in receipts]}
    return Response(orjson.dumps(payload), 201, media_type=JSON)


@router.get(
    "",
    summary="Search the tenant's events",
    response_model=schemas.EventPage,
    **schemas.operation(
        errors=(400, 422), auth="key_or_viewer", parameters=schemas.SEARCH_PARAMETERS
    ),
)
def search_events(request: Request) -> Response:
    principal = deps.principal(request)
    query, page = query_from_params(query_lists(request))
    found = deps.audit_log(request).search(principal, query, page, ip=client_ip(request))
    _count_read(request, principal, "search")
    body: dict[str, Any] = {
        "events": [e.to_dict() for e in found.events],
        "next_cursor": found.next_cursor,
        "total": found.total,
    }
    return Response(orjson.dumps(body), media_type=JSON)


@router.get(
    "/export",
    summary="Export every matching event as CSV, NDJSON or a verifiable bundle",
    response_class=Response,
    **schemas.operation(
        errors=(400, 422, 500),
        auth="key_or_viewer",
        parameters=schemas.EXPORT_PARAMETERS,
        responses={
            200: {
                "description": "CSV (format=csv), NDJSON (ndjson) or a verifiable bundle "
                "(bundle, NDJSON too), streamed as an attachment",
                "content": {
                    CSV_MEDIA_TYPE: {"schema": {"type": "string"}},
                    NDJSON_MEDIA_TYPE: {"schema": {"type": "string"}},
                },
            }
        },
    ),
)
def export_events(request: Request) -> Response:
    principal = deps.principal(request)
    params = query_lists(request)
    formats = params.get("format", [EXPORT_FORMATS[0]])
    if len(formats) != 1 or formats[0] not in EXPORT_FORMATS:
        choices = f"{', '.join(EXPORT_FORMATS[:-1])} or {EXPORT_FORMATS[-1]}"
        raise InvalidQuery(f"format must be {choices}", "format")
    query, _ = query_from_params(params, extra_allowed=("format",))
    export = deps.audit_log(request).export(
        principal,
        query,
        formats[0],  # checked against EXPORT_FORMATS above
        ip=client_ip(request),
    )
    _count_read(request, principal, "export")
    return StreamingResponse(
        export.chunks,
        media_type=export.media_type,
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )


_PAGING = ("limit", "offset", "cursor", "order")


@router.get(
    "/histogram",
    summary="How many matching events fell in each time bucket, by kind",
    response_model=schemas.Histogram,
    **schemas.operation(
        errors=(400, 422), auth="key_or_viewer", parameters=schemas.HISTOGRAM_PARAMETERS
    ),
)
def events_histogram(request: Request) -> Response:
    principal = deps.principal(request)
    params = query_lists(request)
    for name in _PAGING:
        if name in params:
            raise InvalidQuery(f"unknown parameter {name!r}: a histogram is not paged", name)
    query, _ = query_from_params(params, extra_allowed=("buckets",))
    buckets = parse_buckets(_single(params, "buckets"))
    found = deps.audit_log(request).histogram(principal, query, buckets, ip=client_ip(request))
    _count_read(request, principal, "histogram")
    return Response(orjson.dumps(found.to_dict()), media_type=JSON)


def _single(params: dict[str, list[str]], name: str) -> str | None:
    values = [v for v in params.get(name, []) if v.strip()]
    if len(values) > 1:
        raise InvalidQuery(f"{name} takes one value, not {len(values)}", name)
    return values[0] if values else None


@router.get(
    "/{event_id}",
    summary="One event, with its inclusion proof",
    response_model=schemas.EventOut,
    **schemas.operation(
        errors=(404, 422, 500),
        auth="key_or_viewer",
        parameters=schemas.EVENT_PARAMETERS,
        responses={
            200: schemas.links(
                GetInclusionProofOfEvent=("inclusion", {"seq": "$response.body#/seq"}),
            )
        },
    ),
)
def get_event(request: Request, event_id: str) -> Response:
    principal = deps.principal(request)
    params = query_lists(request, allowed=("include",))
    include = {part for value in params.get("include", []) for part in value.split(",") if part}
    if include - {"salts"}:
        raise InvalidQuery("include accepts only salts", "include")
    body = deps.audit_log(request).event_with_proof(
        principal, event_id, include_salts="salts" in include, ip=client_ip(request)
    )
    _count_read(request, principal, "event")
    return Response(orjson.dumps(body), media_type=JSON)


@router.get(
    "/{event_id}/proof",
    summary="The event's C2SP tlog-proof file (format=tlog-proof)",
    response_class=Response,
    **schemas.operation(
        errors=(404, 422, 500),
        auth="key_or_viewer",
        parameters=schemas.PROOF_FILE_PARAMETERS,
        responses={200: schemas.content("text/plain", {"type": "string"}, "a tlog-proof file")},
    ),
)
def get_event_proof(request: Request, event_id: str) -> Response:
    principal = deps.principal(request)
    params = query_lists(request, allowed=("format",))
    if params.get("format", ["tlog-proof"]) != ["tlog-proof"]:
        raise InvalidQuery("format accepts only tlog-proof", "format")
    text = deps.audit_log(request).proof_file(principal, event_id)
    _count_read(request, principal, "proof")
    name = event_id if _SAFE_NAME.fullmatch(event_id) else "event"
    return PlainTextResponse(
        text, headers={"Content-Disposition": f'attachment; filename="{name}.tlog-proof"'}
    )


def _count_read(request: Request, principal: Principal, endpoint: str) -> None:
    if principal.kind == "api_key":
        request.app.state.metrics.api_key_reads.labels(endpoint).inc()
