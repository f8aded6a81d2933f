# Two commands on a fresh machine:
#   make run   — set up and run the service on the embedded default (SQLite in ./instance)
#   make test  — set up and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: run test setup lint clean bench bench-quick

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

# Front-end libraries (bpmn-js, bpmnlint) from the npm registry, exactly as package-lock.json pins them.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

setup: $(STAMP) $(NODE_STAMP)

run: $(STAMP) $(NODE_STAMP)
	$(BIN)/homeschool db upgrade
	$(BIN)/homeschool validate
	$(BIN)/homeschool serve

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check service tests features bench conftest.py
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache .ruff_cache .mypy_cache
