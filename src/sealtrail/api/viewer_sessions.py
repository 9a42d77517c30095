"""``/v1/viewer-sessions``: the host product mints viewer sessions and ends them (SPEC §5, §6).

``POST`` mints one and returns its one-time link; ``DELETE /v1/viewer-sessions/{id}``
revokes one, ``DELETE /v1/viewer-sessions?user_id=…`` every live one of a user. All
three need the ``viewer:mint`` scope and act in the key's tenant only.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from sealtrail.api import schemas
from sealtrail.server import deps
from sealtrail.server.requests import read_json
from sealtrail.sessions import MAX_ACCOUNTS, MAX_TEXT, ROLES

router = APIRouter(tags=["viewer"])

MAX_BODY_BYTES = 64 * 1024


class ViewerSessionOut(BaseModel):
    url: str = Field(description="Send the user's browser here; it opens the session once")
    token: str = Field(description="The link's one-time token (the URL carries it)")
    expires_at: str = Field(description="RFC 3339; the session ends then")
    session_id: str = Field(description="Revoke the session with DELETE /v1/viewer-sessions/{id}")
    link_expires_at: str = Field(description="RFC 3339; an unused link opens nothing after this")


class RevokedOut(BaseModel):
    revoked: int = Field(description="How many live sessions were revoked")


_LINE = r"[^\x00-\x1f\x7f]*"
_TEXT = {"type": "string", "maxLength": MAX_TEXT, "pattern": rf"^{_LINE}[^\s\x00-\x1f\x7f]{_LINE}$"}
_BODY = schemas.json_body(
    {
        "type": "object",
        "required": ["user", "role"],
        "additionalProperties": False,
        "properties": {
            "user": {
                "type": "object",
                "required": ["id"],
                "additionalProperties": False,
                "properties": {
                    "id": _TEXT,
                    "email": {
                        **_TEXT,
                        "type": ["string", "null"],
                        "pattern": rf"^{_LINE}@{_LINE}$",
                    },
                    "name": {**_TEXT, "type": ["string", "null"]},
                },
            },
            "role": {"type": "string", "enum": list(ROLES)},
            "account_ids": {
                "type": ["array", "null"],
                "items": _TEXT,
                "maxItems": MAX_ACCOUNTS,
                "description": "required for account_admin (the accounts it sees), else absent",
            },
        },
        "if": {"properties": {"role": {"const": "account_admin"}}},
        "then": {
            "required": ["account_ids"],
            "properties": {"account_ids": {"type": "array", "minItems": 1}},
        },
        "else": {"properties": {"account_ids": {"type": ["array", "null"], "maxItems": 0}}},
    }
)


@router.post(
    "/v1/viewer-sessions",
    status_code=201,
    summary="Mint a short-lived viewer session for one user of this tenant",
    response_model=ViewerSessionOut,
    **schemas.operation(errors=schemas.BODY, body=_BODY),
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
    body = {
        "url": minted.url,
        "token": minted.token,
        "expires_at": minted.expires_at,
        "session_id": minted.session_id,
        "link_expires_at": minted.link_expires_at,
    }
    return Response(
        orjson.dumps(body),
        201,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


@router.delete(
    "/v1/viewer-sessions/{session_id}",
    status_code=204,
    summary="Revoke one viewer session of this tenant (its cookie stops working at once)",
    response_class=Response,
    **schemas.operation(errors=(404, 422)),
)
def revoke_viewer_session(request: Request, session_id: str) -> Response:
    principal = deps.principal(request)
    deps.audit_log(request).revoke_viewer_session(principal, session_id)
    return Response(status_code=204)


@router.delete(
    "/v1/viewer-sessions",
    summary="Revoke every live viewer session of one user of this tenant",
    response_model=RevokedOut,
    **schemas.operation(errors=(422,)),
)
def revoke_user_viewer_sessions(
    request: Request,
    user_id: str = Query(description="The user's id, as minted in user.id", min_length=1),
) -> Response:
    principal = deps.principal(request)
    revoked = deps.audit_log(request).revoke_user_viewer_sessions(principal, user_id)
    return Response(orjson.dumps({"revoked": revoked}), media_type="application/json")
