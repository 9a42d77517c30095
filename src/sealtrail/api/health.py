"""Liveness, readiness and metrics."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from sealtrail.server import deps

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
def healthz() -> Response:
    return Response(orjson.dumps({"status": "ok"}), media_type="application/json")


@router.get("/readyz", summary="The database answers, the schema is current, the signer signs")
def readyz(request: Request) -> Response:
    readiness = deps.audit_log(request).readiness()
    if not readiness.ready:
        body: dict[str, object] = {"status": "unavailable", "reason": readiness.reason}
        if readiness.signer_refused:
            body["signer_refused"] = dict(readiness.signer_refused)
        return Response(orjson.dumps(body), 503, media_type="application/json")
    return Response(
        orjson.dumps({"status": "ready", "schema": readiness.schema}),
        media_type="application/json",
    )


@router.get("/metrics", summary="Prometheus metrics of this process")
def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
