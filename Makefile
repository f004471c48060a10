# Two entry points do all set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
UV_VERSION := 0.13.9
# The suite starts hundreds of Python processes; with bytecode caching off (some images set
# this) each one would compile the package and pytest would rewrite every test module again.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test check lint format bench soak venv sysdeps clean

# (Re)create the virtual environment whenever the pins or the package metadata change.
# uv resolves and installs the ~100 pinned distributions in seconds where pip takes most of a
# minute; pip is the fallback when uv cannot be installed. Both honour constraints.txt.
# The venv starts without pip (ensurepip alone takes 5 s); the outer pip puts uv in it, and uv
# adds pip with the rest, so .venv/bin/pip is there for the commands in the README.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	@test -x $(BIN)/uv || $(PYTHON) -m pip --python $(BIN)/python install -q \
	  --disable-pip-version-check 'uv==$(UV_VERSION)' 2>/dev/null || true
	@if [ -x $(BIN)/uv ]; then \
	  echo "$(BIN)/uv pip install -c constraints.txt -e '.[dev]' pip"; \
	  $(BIN)/uv pip install -q --python $(BIN)/python -c constraints.txt -e '.[dev]' pip; \
	else \
	  test -x $(BIN)/pip || $(BIN)/python -m ensurepip -q; \
	  echo "$(BIN)/python -m pip install -c constraints.txt -e '.[dev]'"; \
	  $(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'; \
	fi
	@touch $(STAMP)

venv: $(STAMP)

# System packages the tests need (Chromium for browser tests, PostgreSQL for the second dialect).
sysdeps:
	@scripts/install-system-deps.sh

demo: venv
	@if [ -t 1 ]; then $(BIN)/link-cli demo; else $(BIN)/link-cli demo --auto-approve; fi

# Prints its own wall time, set-up included, whatever the outcome.
test:
	@start=$$(date +%s); status=0; \
	$(MAKE) --no-print-directory venv sysdeps && scripts/run-tests.sh || status=$$?; \
	echo "make test: exit $$status, wall time $$(( $$(date +%s) - start )) s (set-up included)"; \
	exit $$status

# The quick loop: lint, then every test that starts no server process and no browser
# (property tests with Hypothesis's default example count run a quarter of it here).
check: lint
	HYPOTHESIS_PROFILE=quick $(BIN)/python -m pytest -n $${TEST_WORKERS:-auto} --dist load -q -m "not server and not browser"

lint: venv
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/lint-imports
	$(BIN)/python -m link_cli.cli.reference --check
	$(BIN)/mypy -p link_cli.sdk -p link_cli.mpp -p link_cli.inspection
	$(BIN)/deptry src

format: venv
	$(BIN)/ruff check --fix src tests bench scripts
	$(BIN)/ruff format src tests bench scripts

bench: venv
	$(BIN)/python bench/cli_startup.py
	$(BIN)/python bench/wallet_body_memory.py

# Races and kill -9 crashes against real wallets (SQLite, and several processes on a throwaway
# PostgreSQL) for SOAK_SECONDS (default 180); prints attempts vs violations, exits 1 on any.
soak: venv sysdeps
	$(BIN)/python -m tests.soak

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache .hypothesis test-artifacts
