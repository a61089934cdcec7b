# make demo  — creates .venv if needed, then runs everything locally with an interactive console.
# make test  — creates .venv, installs everything, runs ruff, mypy --strict and the whole test suite.
# make check — what CI runs (.ci/run calls it): the same as test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv demo lint typecheck test check bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("Deploybot needs Python 3.11+, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever the dependency list changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Everything local (embedded Redis, Pulumi emulator, fake Slack, the bot) with an interactive console.
demo: $(STAMP)
	$(BIN)/deploybot demo

lint: $(STAMP)
	$(BIN)/ruff check bot handlers tests bench
	$(BIN)/ruff format --check bot handlers tests bench

typecheck: $(STAMP)
	$(BIN)/mypy bot handlers

test: lint typecheck
	$(BIN)/pytest

check: test

bench: $(STAMP)
	@for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
