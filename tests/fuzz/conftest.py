"""One ``sealtrail serve`` per engine for the fuzz run (tests/fuzz/live.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fresh_postgres_database

from .live import FuzzTarget, serve


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def fuzz_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzTarget]:
    workdir: Path = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    if request.param == "sqlite":
        with serve(workdir, f"sqlite:///{workdir / 'sealtrail.db'}") as target:
            yield target
        return
    server = request.getfixturevalue("postgres_server")
    with fresh_postgres_database(server) as url, serve(workdir, url) as target:
        yield target
