"""Reading requests: bounded bodies, strict JSON, query strings, credentials."""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from typing import Any

from starlette.requests import Request

from sealtrail import strictjson
from sealtrail.errors import AuthenticationFailed, BodyTooLarge, InvalidQuery, MalformedBody


async def read_json(request: Request, limit: int, expected: str) -> Any:
    """The body as strict JSON; 413 as soon as it passes ``limit`` bytes.

    ``expected`` says what the route takes, for the message an empty body gets."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise BodyTooLarge(f"the body is over the {limit}-byte limit")
        except ValueError:
            raise MalformedBody("Content-Length is not a number") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"the body is over the {limit}-byte limit")
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body.strip():
        raise MalformedBody(f"the body is empty; send {expected}")
    return strictjson.loads(body)


def query_lists(request: Request, allowed: Collection[str] | None = None) -> dict[str, list[str]]:
    """The query string as name → every value given, in order; with ``allowed``, a
    name outside it is refused (the search routes check theirs in ``sealtrail.query``)."""
    out: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        if allowed is not None and key not in allowed:
            raise InvalidQuery(f"unknown parameter {key!r}", key)
        out.setdefault(key, []).append(value)
    return out


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("use Authorization: Bearer <API key>")
    return token.strip()


def client_ip(request: Request) -> str | None:
    """The peer's address, when it is one (test clients and Unix sockets have none)."""
    host = request.client.host if request.client else None
    if host is None:
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    return host
