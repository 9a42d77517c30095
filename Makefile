# Each target installs what it needs: only Python 3.11+ and git are assumed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
SYNCED := $(VENV)/.synced
RUNTIME := $(VENV)/.synced-runtime
PYTEST_WORKERS ?= 2

.PHONY: run test stress fuzz check lint types bench fmt clean screenshots

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.9

# --inexact keeps uv itself inside the virtualenv it manages.
# `make run` installs the service only (the server and postgres extras);
# the tests and checks add the development tools (the dev dependency group).
$(RUNTIME): $(UV) pyproject.toml uv.lock
	VIRTUAL_ENV=$(abspath $(VENV)) $(UV) sync --quiet --frozen --inexact --all-extras --no-dev --active
	@touch $@

$(SYNCED): $(UV) pyproject.toml uv.lock
	VIRTUAL_ENV=$(abspath $(VENV)) $(UV) sync --quiet --frozen --inexact --all-extras --active
	@touch $@

run: $(RUNTIME)
	$(BIN)/sealtrail demo

test: $(SYNCED)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "not stress"

# The done-when tests at full size (e.g. 20,000 events through two SIGKILLs): minutes.
stress: $(SYNCED)
	$(BIN)/python -m pytest -m stress

# The OpenAPI fuzz run (tests/fuzz) at nightly size: more examples, a new random seed each
# time; it prints the seed, and SEALTRAIL_FUZZ_SEED=N make fuzz replays it. `make test`
# runs the same run with a fixed seed and 10 examples per operation.
FUZZ_EXAMPLES ?= 100
fuzz: $(SYNCED)
	SEALTRAIL_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) SEALTRAIL_FUZZ_SEED=$${SEALTRAIL_FUZZ_SEED:-random} \
		$(BIN)/python -m pytest -n 0 -s -p no:cacheprovider tests/fuzz/test_openapi_fuzz.py

lint: $(SYNCED)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

types: $(SYNCED)
	$(BIN)/mypy

check: lint types test

fmt: $(SYNCED)
	$(BIN)/ruff format src tests bench examples
	$(BIN)/ruff check --fix src tests bench examples

# The README's and docs/viewer.md's pictures, taken by the browser tests' own Chromium.
screenshots: $(SYNCED)
	SEALTRAIL_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q -p no:cacheprovider tests/web/browser/test_phone_and_screenshots.py \
		tests/web/browser/test_timeline.py::test_timeline_screenshot

bench: $(SYNCED)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
