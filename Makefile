# Everything installs itself into .venv; only Python 3.11 is needed on the machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: demo test test-fast lint format bench bench-large soak clean chromium bytecode

# pip -q -q: errors only (with one -q, setuptools' "Editable installation" notes still show).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -q --upgrade pip
	$(BIN)/python -m pip install -q -q -e ".[dev]"
	$(BIN)/python -m compileall -q -j 0 src cli >/dev/null
	rm -f $(VENV)/.installed-* && touch $(STAMP)

# An editable install compiles nothing of our own, and with PYTHONDONTWRITEBYTECODE set (as on
# some CI machines) every command would compile every module it imports again; a regular
# install by pip compiles them, and so does this (stale files are simply recompiled).
bytecode:
	$(BIN)/python -m compileall -q -j 0 src cli >/dev/null

demo: $(STAMP)  ## the main job: a fresh scenario on the embedded SQLite default
	$(BIN)/processor demo

test: $(STAMP) chromium  ## the whole suite (PostgreSQL tests run when PROCESSOR_TEST_POSTGRES_URL is set)
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# The HTML audit report is tested in headless Chromium: found, or installed when we are root;
# otherwise that test skips (and CI, with PROCESSOR_REQUIRE_BROWSER=1, fails on the skip).
chromium:
	@command -v chromium >/dev/null || test -x /usr/bin/chromium \
		|| { test "$$(id -u)" = 0 && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| echo "chromium not found and not root: the browser test will skip" >&2

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

soak: $(STAMP)  ## the stateful model of the whole core, 10,000 steps (SOAK_BACKEND=postgres to switch)
	PROCESSOR_SOAK_STEPS=$${PROCESSOR_SOAK_STEPS:-10000} PROCESSOR_SOAK_BACKEND=$${SOAK_BACKEND:-sqlite} \
		$(BIN)/python -m pytest tests/test_core_stateful.py -k soak -s $(PYTEST_ARGS)

bench: $(STAMP) bytecode
	$(BIN)/python -m bench

bench-large: $(STAMP) bytecode
	$(BIN)/python -m bench --large

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
