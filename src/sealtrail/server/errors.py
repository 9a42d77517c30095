"""Domain errors → HTTP responses, in one place.

Every error response has the same shape, pinned by a test:
``{"error": {"code": "...", "message": "...", ...}}``.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

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
    if isinstance(exc, errors.InvalidEvent):
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
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return Response(orjson.dumps(body), status, headers=headers, media_type="application/json")


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

    async def http(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, code, str(exc.detail))

    async def validation(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error_response(422, "invalid_request", f"{where}: {first.get('msg', 'invalid')}")

    app.add_exception_handler(errors.SealtrailError, domain)
    app.add_exception_handler(StarletteHTTPException, http)
    app.add_exception_handler(RequestValidationError, validation)
