"""Domain errors → HTTP responses, in one place.

Every error response has the same shape, pinned by a test:
``{"error": {"code": "...", "message": "...", ...}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from sealtrail import errors

# Most specific first: the first class an error is an instance of decides.
STATUS: list[tuple[type[errors.SealtrailError], int]] = [
    (errors.BodyTooLarge, 413),
    (errors.MalformedBody, 400),
    (errors.PhraseSyntaxError, 400),
    (errors.InvalidEvent, 422),
    (errors.InvalidQuery, 422),
    (errors.InvalidInput, 422),
    (errors.AuthenticationFailed, 401),
    (errors.PermissionDenied, 403),
    (errors.NotFound, 404),
    (errors.ClassificationFixed, 409),
    (errors.Conflict, 409),
    (errors.RateLimited, 429),
    (errors.ProofError, 422),
    (errors.LedgerError, 500),
    (errors.DatabaseUnavailable, 503),
    (errors.NotMigrated, 503),
    (errors.ConfigurationError, 500),
]


def status_for(exc: errors.SealtrailError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def error_body(exc: errors.SealtrailError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if isinstance(exc, errors.InvalidEvent | errors.DestinationRefused):
        body["details"] = [d.as_dict() for d in exc.details]
    elif isinstance(exc, errors.InvalidQuery) and exc.parameter:
        body["parameter"] = exc.parameter
    elif isinstance(exc, errors.PhraseSyntaxError):
        body["token"] = exc.token
        body["position"] = exc.position
    return {"error": body}


def error_response(status: int, code: str, message: str) -> Response:
    return json_error(status, {"error": {"code": code, "message": message}})


def json_error(
    status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> Response:
    sent = dict(headers or {})
    if status == 401:
        sent["WWW-Authenticate"] = "Bearer"
    return Response(orjson.dumps(body), status, headers=sent, media_type="application/json")


def allowed_methods(request: Request) -> str:
    """Every method some route answers at the request's path (RFC 9110 ``Allow``)."""
    scope = {**request.scope, "method": "GET"}
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        route_methods = route.methods
        if route_methods and route.matches(scope)[0] is not Match.NONE:
            methods |= set(route_methods)
    return ", ".join(sorted(methods))


def error_headers(exc: errors.SealtrailError) -> dict[str, str] | None:
    """``Retry-After`` for a rate-limited request (the ``RateLimit`` fields come from
    ``sealtrail.server.rate_headers``, on every charged response)."""
    if isinstance(exc, errors.RateLimited):
        return {"Retry-After": str(exc.retry_after)}
    return None


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "invalid_request",
    429: "rate_limited",
}


def install(app: FastAPI) -> None:
    async def domain(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, errors.SealtrailError)
        return json_error(status_for(exc), error_body(exc), error_headers(exc))

    async def http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        body = {"error": {"code": code, "message": str(exc.detail)}}
        return json_error(exc.status_code, body, headers)

    async def validation(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error_response(422, "invalid_request", f"{where}: {first.get('msg', 'invalid')}")

    app.add_exception_handler(errors.SealtrailError, domain)
    app.add_exception_handler(StarletteHTTPException, http)
    app.add_exception_handler(RequestValidationError, validation)
