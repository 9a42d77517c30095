"""The fuzz run fails when a handler raises: shown on a test-only app with one broken route.

The app is Sealtrail's own (``create_app``), served by uvicorn on a loopback port, with
one more operation documented like the others: ``GET /v1/ratio?n=`` divides by ``n``,
which the document allows to be 0. The same ``fuzz`` that runs over the real server
must find that case and report the 500 — nothing in the shipped app is broken for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi import FastAPI, Request
from starlette.responses import Response

from sealtrail.api import schemas
from tests.keys import quiet_api_key

from .fuzzing import FuzzRun, fuzz
from .threaded import sealtrail_app, served

pytestmark = pytest.mark.slow

BROKEN = "/v1/ratio"


def _with_a_broken_route(app: FastAPI) -> FastAPI:
    @app.get(
        BROKEN,
        summary="100 divided by n (test-only: raises ZeroDivisionError for n = 0)",
        response_class=Response,
        **schemas.operation(
            errors=(422,),
            parameters=[schemas.param("n", "the divisor", schemas.integer(0, 100), required=True)],
            responses={200: schemas.content("application/json", {"type": "number"}, "100 / n")},
        ),
    )
    def ratio(request: Request) -> Response:
        n = int(request.query_params["n"])
        return Response(orjson.dumps(100 / n), media_type="application/json")

    return app


@pytest.fixture
def broken_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    with sealtrail_app(f"sqlite:///{tmp_path / 'broken.db'}", tmp_path) as (log, app):
        key = quiet_api_key(log.database_url, "acme", "events:read")
        with served(_with_a_broken_route(app)) as url:
            yield url, key


def test_the_fuzz_run_reports_a_handler_that_raises(broken_server: tuple[str, str]) -> None:
    url, key = broken_server
    report = fuzz(FuzzRun(url, key, examples=20), only=[BROKEN])
    assert report.operations == {f"GET {BROKEN}"}, report.operations
    assert report.statuses[500] >= 1, report.summary()
    assert any("not_a_server_error" in failure for failure in report.failures), report.failures
    assert any("n=0" in failure for failure in report.failures), report.failures
