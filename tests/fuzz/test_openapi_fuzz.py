"""Every operation of the served ``/openapi.json``, fuzzed against a live server on each engine.

A real ``sealtrail serve`` (tests/fuzz/live.py) on SQLite and on PostgreSQL; Schemathesis
runs every phase over the document it serves (tests/fuzz/fuzzing.py). Fixed seed and
bounded examples here, so it fits ``make test``; ``make fuzz`` runs more with a random seed.

The live tail, ``GET /v1/events/stream``, is left out (``fuzzing.ENDLESS``): it only ends
when the client goes, so a fuzzer waiting for the whole response would wait forever.
tests/fuzz/test_endless_streams.py checks it, and the viewer's ``/ui/live``, instead.
"""

from __future__ import annotations

import os

import pytest

from .fuzzing import FuzzRun, fuzz
from .live import FuzzTarget

pytestmark = pytest.mark.slow


# About 2 minutes per engine at the default bounds (a loaded CI machine gets room); the
# longer runs `make fuzz` asks for (SEALTRAIL_FUZZ_EXAMPLES) take as long as they take.
@pytest.mark.timeout(0 if "SEALTRAIL_FUZZ_EXAMPLES" in os.environ else 900)
def test_every_operation_and_link(fuzz_target: FuzzTarget) -> None:
    run = FuzzRun.from_environment(fuzz_target.url, fuzz_target.key)
    print(f"fuzz: {run.examples} examples per operation, seed {run.seed}", flush=True)
    report = fuzz(run)
    print(report.summary())
    assert not report.errors, "\n".join(report.errors)
    assert not report.failures, f"{report.summary()}\n\n" + "\n\n".join(report.failures)
    assert not any(status >= 500 for status in report.statuses), report.summary()
    assert report.requests > 0
