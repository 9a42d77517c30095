"""The witness over HTTP: ``POST /add-checkpoint`` and ``GET /<origin hash>/checkpoint``.

The submission and monitoring prefixes are both the server's root. Plain text in and
out, as c2sp.org/tlog-witness specifies; any refusal answers its status with a one-line
reason (and a 409 with the witness's size as ``text/x.tlog.size``).
"""

from __future__ import annotations

import re
from typing import Final

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from sealtrail.witness.protocol import SIZE_CONTENT_TYPE, SizeConflict, WitnessRefusal
from sealtrail.witness.service import Witness

MAX_BODY: Final = 64 * 1024
_HEX64: Final = re.compile(r"[0-9a-f]{64}")


def create_witness_app(witness: Witness) -> Starlette:
    async def add_checkpoint(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return PlainTextResponse("request body too large\n", 413)
        try:
            lines = await run_in_threadpool(witness.add_checkpoint, body)
        except SizeConflict as exc:
            return Response(f"{exc.size}\n", 409, media_type=SIZE_CONTENT_TYPE)
        except WitnessRefusal as exc:
            return PlainTextResponse(exc.message + "\n", exc.status)
        return PlainTextResponse(lines)

    async def checkpoint(request: Request) -> Response:
        hashed = request.path_params["origin_hash"]
        if _HEX64.fullmatch(hashed) is None:
            return PlainTextResponse("not found\n", 404)
        note = await run_in_threadpool(witness.checkpoint, hashed)
        if note is None:
            return PlainTextResponse("this witness never cosigned that log\n", 404)
        return PlainTextResponse(note)

    return Starlette(
        routes=[
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/{origin_hash}/checkpoint", checkpoint, methods=["GET"]),
        ]
    )
