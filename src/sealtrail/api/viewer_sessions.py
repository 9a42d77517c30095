"""``POST /v1/viewer-sessions``: the host product mints a viewer session (SPEC §5, §6)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from sealtrail.server import deps
from sealtrail.server.requests import read_json
from sealtrail.sessions import ROLES

router = APIRouter(tags=["viewer"])

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
                            "enum": list(ROLES),
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


@router.post(
    "/v1/viewer-sessions",
    status_code=201,
    summary="Mint a short-lived viewer session for one user of this tenant",
    response_model=ViewerSessionOut,
    openapi_extra=_BODY,
)
async def create_viewer_session(request: Request) -> Response:
    principal = deps.principal(request)
    wanted = await read_json(
        request, MAX_BODY_BYTES, 'a session request: {"user": {"id", "email", "name"}, "role"}'
    )
    settings = deps.settings(request)
    minted = deps.audit_log(request).mint_viewer_session(
        principal, wanted, base_url=settings.public_url or str(request.base_url)
    )
    body = {"url": minted.url, "token": minted.token, "expires_at": minted.expires_at}
    return Response(
        orjson.dumps(body),
        201,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
