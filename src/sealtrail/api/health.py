"""Liveness, readiness and metrics."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from sealtrail.api import deps

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
def healthz() -> Response:
    return Response(orjson.dumps({"status": "ok"}), media_type="application/json")


@router.get("/readyz", summary="The database answers and the schema is current")
def readyz(request: Request) -> Response:
    log = deps.audit_log(request)
    try:
        log.store.ping()
        revision = log.store.schema_revision()
    except Exception as exc:  # readiness reports any failure, it does not raise
        body = {"status": "unavailable", "reason": type(exc).__name__}
        return Response(orjson.dumps(body), 503, media_type="application/json")
    if revision is None:
        body = {"status": "unavailable", "reason": "schema not migrated: run sealtrail migrate"}
        return Response(orjson.dumps(body), 503, media_type="application/json")
    return Response(
        orjson.dumps({"status": "ready", "schema": revision}), media_type="application/json"
    )


@router.get("/metrics", summary="Prometheus metrics of this process")
def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
