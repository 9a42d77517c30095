"""The FastAPI application: the API's routers and the viewer over one ``AuditLog``."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sealtrail import __version__
from sealtrail.api import ROUTERS
from sealtrail.api.schemas import openapi_document
from sealtrail.audit_log import AuditLog
from sealtrail.server import errors
from sealtrail.server.background import start_detections, start_followers
from sealtrail.server.headers import CredentialHeaders
from sealtrail.server.metrics import Metrics
from sealtrail.server.rate_headers import RateLimitHeaders
from sealtrail.server.scheduled_pruning import ScheduledPruning
from sealtrail.settings import Settings

log = logging.getLogger(__name__)


def _resume_erasures(audit_log: AuditLog) -> None:
    """Finish erasures a stopped process left unfinished (a lease keeps it to one process)."""
    try:
        for erasure in audit_log.resume_erasures():
            log.info("erasure %s: %s", erasure.erasure_id, erasure.status)
    except Exception:  # a background chore: log it, never take the server down
        log.exception("could not resume the unfinished erasures")


def create_app(audit_log: AuditLog, settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        threading.Thread(
            target=_resume_erasures, args=(audit_log,), name="sealtrail-erasures", daemon=True
        ).start()
        # The followers run here only with followers = "thread"; by default `sealtrail
        # serve` runs them in a child process (server.follow_process), off this GIL.
        here = settings.followers == "thread"
        followers = start_followers(audit_log) if here and settings.stream_delivery else None
        app.state.followers = followers
        # Detections: every tenant's rules follow its log (sealtrail.detections).
        detecting = start_detections(audit_log) if here and settings.detections else None
        if settings.followers == "process" and (settings.stream_delivery or settings.detections):
            # Said once per process: an app started without `sealtrail serve` (an ASGI
            # server pointed at the factory) has no follow child, so nothing delivers.
            log.info(
                "stream delivery and detections run in a `sealtrail follow` process"
                " (followers = process): `sealtrail serve` starts one; otherwise run it"
            )
        pruning = ScheduledPruning(audit_log, settings.prune_interval)
        app.state.scheduled_pruning = pruning
        pruning.start()
        try:
            yield
        finally:
            pruning.stop()
            for pool in (followers, detecting):
                if pool is not None:
                    pool.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="Sealtrail",
        version=__version__,
        description="A tamper-evident audit log: record, search, export and prove events.",
        docs_url=None,
        openapi_url="/openapi.json",
        redoc_url=None,
        generate_unique_id_function=_operation_id,
    )
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    app.state.audit_log = audit_log
    app.state.settings = settings
    app.state.metrics = Metrics(audit_log)
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    _install_docs(app)
    _install_metrics(app)
    app.add_middleware(RateLimitHeaders)
    app.add_middleware(CredentialHeaders)
    try:
        from sealtrail.web import install as install_viewer
    except ImportError:
        pass
    else:
        install_viewer(app)
    return app


def _operation_id(route: APIRoute) -> str:
    """An operation's id is its handler's name: short, stable, what links point at."""
    return route.name


DOCS_ASSETS = "/docs/assets"


def _install_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the swagger-ui-bundle package: no CDN, works offline."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), "docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Sealtrail API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )


def _install_metrics(app: FastAPI) -> None:
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)


class MetricsMiddleware:
    """Counts and times every request by route template (pure ASGI: streams untouched)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, remember_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)
