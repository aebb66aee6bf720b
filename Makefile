# Pathways — make up: run everything; make test: checks and the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install asyncapi-tools browser up test check unit integration e2e browser-tests screenshots \
	bench mutate clean

# The official AsyncAPI parser, which validates `pathways asyncapi` in the integration tests.
ASYNCAPI_TOOLS := tools/asyncapi
ASYNCAPI_STAMP := $(ASYNCAPI_TOOLS)/node_modules/.installed

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

asyncapi-tools: $(ASYNCAPI_STAMP)

# No install scripts: the parser needs none, and one dependency (@scarf/scarf) would send
# an install report.
$(ASYNCAPI_STAMP): $(ASYNCAPI_TOOLS)/package.json $(ASYNCAPI_TOOLS)/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { \
		echo "make: node and npm are missing; install Node.js 20 or later to validate the AsyncAPI document" >&2; \
		exit 1; }
	npm ci --prefix $(ASYNCAPI_TOOLS) --no-audit --no-fund --ignore-scripts
	touch $@

# The browser tests drive Debian's Chromium: installed with apt when missing (as root), never a
# browser Playwright would download. The version is not pinned: security updates replace it.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } \
		|| { echo "make: browser tests need Debian's chromium: apt-get install chromium (as root)" >&2; \
			exit 1; }

up: install
	$(BIN)/pathways up $(ARGS)

check: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

test: check browser asyncapi-tools
	$(BIN)/pytest

unit: install
	$(BIN)/pytest tests/unit

integration: install asyncapi-tools
	$(BIN)/pytest tests/integration

e2e: install
	$(BIN)/pytest tests/e2e

browser-tests: install browser
	$(BIN)/pytest tests/browser

# The console's screenshots in docs/screenshots/, taken by the browser tests.
screenshots: install browser
	PATHWAYS_SCREENSHOTS=1 $(BIN)/pytest tests/browser -k "screenshot or scenario"

bench: install
	$(BIN)/python -m benchmarks.run $(ARGS)

# Mutation testing of the pure domain modules against the unit tests ([tool.mutmut]); slow, so
# not part of `make test`. `mutmut results` lists survivors, `mutmut show NAME` shows one.
mutate: install
	$(BIN)/mutmut run --max-children 2
	$(BIN)/python -m tests.mutation_summary

clean:
	rm -rf $(VENV) .pathways .mypy_cache .ruff_cache .pytest_cache .import_linter_cache mutants \
		$(ASYNCAPI_TOOLS)/node_modules
