"""Liveness, readiness and metrics."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from sealtrail.api import schemas
from sealtrail.server import deps

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz",
    summary="The process is up",
    response_model=schemas.HealthOut,
    **schemas.operation(auth="none"),
)
def healthz() -> Response:
    return Response(orjson.dumps({"status": "ok"}), media_type="application/json")


@router.get(
    "/readyz",
    summary="The database answers, the schema is current, the signer signs",
    response_model=schemas.ReadyOut,
    **schemas.operation(
        auth="none",
        responses={503: {"description": "not ready, and why", "model": schemas.ReadyOut}},
    ),
)
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


@router.get(
    "/metrics",
    summary="Prometheus metrics of this process",
    response_class=Response,
    **schemas.operation(
        auth="none",
        responses={
            200: schemas.content(
                CONTENT_TYPE_LATEST, {"type": "string"}, "the Prometheus text format"
            )
        },
    ),
)
def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
