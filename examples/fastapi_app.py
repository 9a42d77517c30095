"""A tiny FastAPI app that records an audit event per request through Sealtrail.

    SEALTRAIL_URL=http://127.0.0.1:8000 SEALTRAIL_API_KEY=st_... \
        uvicorn --app-dir examples --factory fastapi_app:create_app --port 8080

    curl -X POST -H 'X-User-Id: u_1' http://127.0.0.1:8080/documents/d_1/share

The middleware puts the caller's ip, user agent and request id into
``sealtrail.context``; the handler names only who did what to which document.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI, Header

import sealtrail
from sealtrail.integrations.asgi import SealtrailMiddleware


def create_app(
    audit: sealtrail.AsyncClient | None = None, trusted_proxies: Sequence[str] = ("10.0.0.0/8",)
) -> FastAPI:
    audit = audit or sealtrail.AsyncClient(
        os.environ["SEALTRAIL_URL"], os.environ["SEALTRAIL_API_KEY"]
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with audit:  # flushes on shutdown
            yield

    app = FastAPI(lifespan=lifespan)
    app.add_middleware(SealtrailMiddleware, trusted_proxies=trusted_proxies)

    @app.post("/documents/{document_id}/share")
    async def share(document_id: str, x_user_id: str = Header()) -> dict[str, str]:
        event_id = audit.record(
            action="document.shared",
            actor=f"user:{x_user_id}",
            resource=f"document:{document_id}",
        )
        return {"event_id": event_id}

    return app
