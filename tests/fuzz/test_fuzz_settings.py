"""``make fuzz`` and ``make test`` run the same fuzz run with different bounds (README)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO

from .fuzzing import DEFAULT_EXAMPLES, DEFAULT_SEED, FuzzRun


def test_make_test_runs_a_fixed_seed_and_make_fuzz_a_new_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SEALTRAIL_FUZZ_SEED", raising=False)
    monkeypatch.delenv("SEALTRAIL_FUZZ_EXAMPLES", raising=False)
    fixed = FuzzRun.from_environment("http://127.0.0.1:1", "k")
    assert (fixed.examples, fixed.seed) == (DEFAULT_EXAMPLES, DEFAULT_SEED)
    monkeypatch.setenv("SEALTRAIL_FUZZ_SEED", "random")
    monkeypatch.setenv("SEALTRAIL_FUZZ_EXAMPLES", "100")
    drawn = {FuzzRun.from_environment("http://127.0.0.1:1", "k").seed for _ in range(5)}
    assert len(drawn) > 1
    monkeypatch.setenv("SEALTRAIL_FUZZ_SEED", "1234")
    replayed = FuzzRun.from_environment("http://127.0.0.1:1", "k")
    assert (replayed.examples, replayed.seed) == (100, 1234)


def test_the_makefile_has_the_fuzz_target() -> None:
    makefile = (REPO / "Makefile").read_text()
    phony = re.search(r"^\.PHONY:(.*)$", makefile, re.M)
    assert phony is not None and "fuzz" in phony.group(1).split()
    recipe = makefile.split("\nfuzz:", 1)[1].split("\n\n", 1)[0]
    assert "SEALTRAIL_FUZZ_SEED=$${SEALTRAIL_FUZZ_SEED:-random}" in recipe
    assert "SEALTRAIL_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES)" in recipe
    assert "tests/fuzz/test_openapi_fuzz.py" in recipe
