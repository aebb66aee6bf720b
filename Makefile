# Pathways — make up: run everything; make test: checks and the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install up test check unit integration e2e bench mutate clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

up: install
	$(BIN)/pathways up $(ARGS)

check: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

test: check
	$(BIN)/pytest

unit: install
	$(BIN)/pytest tests/unit

integration: install
	$(BIN)/pytest tests/integration

e2e: install
	$(BIN)/pytest tests/e2e

bench: install
	$(BIN)/python -m benchmarks.run $(ARGS)

# Mutation testing of the pure domain modules against the unit tests ([tool.mutmut]); slow, so
# not part of `make test`. `mutmut results` lists survivors, `mutmut show NAME` shows one.
mutate: install
	$(BIN)/mutmut run --max-children 2
	$(BIN)/python -m tests.mutation_summary

clean:
	rm -rf $(VENV) .pathways .mypy_cache .ruff_cache .pytest_cache .import_linter_cache mutants
