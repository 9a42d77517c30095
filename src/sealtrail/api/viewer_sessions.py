"""``POST /v1/viewer-sessions``: the host product mints a viewer session (SPEC §5, §6)."""

from __future__ import annotations

from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from sealtrail.api import deps
from sealtrail.api.requests import read_json
from sealtrail.events import format_timestamp
from sealtrail.sessions import SessionRequest, SessionSigner

router = APIRouter(tags=["viewer"])

SESSION_PATH = "/ui/session"
MAX_BODY_BYTES = 64 * 1024


class ViewerSessionOut(BaseModel):
    url: str = Field(description="Open this in the user's browser; it sets a cookie and shows /ui")
    token: str = Field(description="The signed session token the URL carries")
    expires_at: str = Field(description="RFC 3339; the session ends then")


_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["user", "role"],
                    "properties": {
                        "user": {
                            "type": "object",
                            "required": ["id"],
                            "properties": {
                                "id": {"type": "string"},
                                "email": {"type": "string"},
                                "name": {"type": "string"},
                            },
                        },
                        "role": {
                            "type": "string",
                            "enum": ["owner", "admin", "account_admin", "member"],
                        },
                        "account_ids": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "required for account_admin: the accounts it sees",
                        },
                    },
                }
            }
        },
    }
}


def signer(request: Request) -> SessionSigner:
    found: SessionSigner = request.app.state.viewer_sessions
    return found


def viewer_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{SESSION_PATH}?{urlencode({'token': token})}"


@router.post(
    "/v1/viewer-sessions",
    status_code=201,
    summary="Mint a short-lived viewer session for one user of this tenant",
    response_model=ViewerSessionOut,
    openapi_extra=_BODY,
)
async def create_viewer_session(request: Request) -> Response:
    principal = deps.principal(request)
    principal.require("viewer:mint")
    wanted = SessionRequest.from_body(await read_json(request, MAX_BODY_BYTES))
    settings = deps.settings(request)
    token, session = signer(request).mint(principal.tenant_id, wanted, settings.viewer_session_ttl)
    base = settings.public_url or str(request.base_url)
    body = {
        "url": viewer_url(base, token),
        "token": token,
        "expires_at": format_timestamp(session.expires_at * 1_000_000),
    }
    return Response(
        orjson.dumps(body),
        201,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
