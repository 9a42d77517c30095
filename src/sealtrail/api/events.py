"""``/v1/events``: record, search, read one, export."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from sealtrail import export
from sealtrail.api import deps, schemas
from sealtrail.api.requests import client_ip, query_lists, read_json
from sealtrail.auth import Principal
from sealtrail.errors import InvalidQuery
from sealtrail.query import Cursor, query_from_params
from sealtrail.store.base import SearchResult

router = APIRouter(prefix="/v1/events", tags=["events"])

JSON = "application/json"
_EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}


def page_body(result: SearchResult, order: str) -> dict[str, Any]:
    next_cursor = None
    if result.has_more and result.events:
        last = result.events[-1]
        next_cursor = Cursor(last.occurred_at, last.seq, order).encode()  # type: ignore[arg-type]
    return {
        "events": [e.to_dict() for e in result.events],
        "next_cursor": next_cursor,
        "total": result.total,
    }


@router.post(
    "",
    status_code=201,
    summary="Record one event or a batch of up to 1000",
    response_model=schemas.IngestResponse,
    openapi_extra=schemas.INGEST_BODY,
)
async def record_events(request: Request) -> Response:
    principal = deps.principal(request)
    principal.require("events:write")
    body = await read_json(request, deps.settings(request).max_body_bytes)
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
    openapi_extra=schemas.SEARCH_PARAMETERS,
)
def search_events(request: Request) -> Response:
    principal = deps.principal(request)
    query, page = query_from_params(query_lists(request))
    result = deps.audit_log(request).search(principal, query, page, viewer_ip=client_ip(request))
    _count_read(request, principal, "search")
    return Response(orjson.dumps(page_body(result, query.order)), media_type=JSON)


@router.get(
    "/export",
    summary="Export every matching event as CSV, NDJSON or a verifiable bundle",
    openapi_extra=schemas.EXPORT_PARAMETERS,
    response_class=Response,
)
def export_events(request: Request) -> Response:
    principal = deps.principal(request)
    params = query_lists(request)
    formats = params.get("format", ["csv"])
    if len(formats) != 1 or formats[0] not in (*_EXPORT_TYPES, "bundle"):
        raise InvalidQuery("format must be csv, ndjson or bundle", "format")
    fmt = formats[0]
    query, _ = query_from_params(params, extra_allowed=("format",))
    log = deps.audit_log(request)
    chunks: Iterator[bytes] = log.export(principal, query, fmt, ip=client_ip(request))  # type: ignore[arg-type]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = "json" if fmt == "bundle" else fmt
    media = _EXPORT_TYPES.get(fmt, JSON)
    filename = f"sealtrail-{principal.tenant_id}-{stamp}.{suffix}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    _count_read(request, principal, "export")
    return StreamingResponse(chunks, media_type=media, headers=headers)


@router.get(
    "/{event_id}",
    summary="One event, with its inclusion proof",
    response_model=schemas.EventOut,
)
def get_event(request: Request, event_id: str) -> Response:
    principal = deps.principal(request)
    params = query_lists(request)
    unknown = sorted(set(params) - {"include"})
    if unknown:
        raise InvalidQuery(f"unknown parameter {unknown[0]!r}", unknown[0])
    include = {part for value in params.get("include", []) for part in value.split(",") if part}
    if include - {"salts"}:
        raise InvalidQuery("include accepts only salts", "include")
    body = deps.audit_log(request).event_with_proof(
        principal, event_id, include_salts="salts" in include
    )
    _count_read(request, principal, "event")
    return Response(orjson.dumps(body), media_type=JSON)


def _count_read(request: Request, principal: Principal, endpoint: str) -> None:
    if principal.kind == "api_key":
        request.app.state.metrics.api_key_reads.labels(endpoint).inc()


__all__ = ["export", "router"]
