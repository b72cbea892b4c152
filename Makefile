# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml sandboxes/pyproject.toml | cksum | cut -d' ' -f1)
UV_VERSION := 0.13.9
# Three test processes, one test file each at a time: most tests wait on real worker and
# sandbox processes, so the 2-core machine has room for three.
PYTEST_ARGS ?= -n 3 --dist loadfile

.PHONY: install demo test lint typecheck contracts browser pytest bench lock sandboxes clean

$(STAMP): requirements.lock pyproject.toml sandboxes/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e . -e sandboxes
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/revbridge demo $(DEMO_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check revbridge sandboxes tests benchmarks
	$(BIN)/ruff format --check revbridge sandboxes tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy revbridge sandboxes/revbridge_sandboxes

contracts: $(STAMP)
	$(BIN)/lint-imports --no-cache

# Chromium for tests/browser, when missing and installable (root): they skip without it.
browser:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
		(apt-get update -q >/dev/null 2>&1 && \
		 DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1) || \
		echo "chromium not installed: browser tests will skip (and fail under CI=true)"

pytest: $(STAMP) browser
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck contracts pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks.sandboxes
	$(BIN)/revbridge bench --deals 100 --profile zero-latency --json bench-zero-latency.json
	$(BIN)/revbridge bench --deals 100 --profile realistic --json bench-realistic.json

sandboxes: $(STAMP)
	$(BIN)/revbridge sandbox run

# Re-resolve pinned versions after editing pyproject.toml dependencies.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache revbridge.db revbridge.db-*
