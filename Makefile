# Two commands on a fresh machine:
#   make run   — set up and run the service on the embedded default (SQLite in ./instance)
#   make test  — set up and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: run test setup lint clean bench bench-quick translations

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

# Front-end libraries (bpmn-js, bpmnlint) from the npm registry, exactly as package-lock.json pins them.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# Gettext catalogues: the .po files are the source (kept in git), the .mo files are compiled from
# them here and never committed. A changed .po is recompiled by the next make run/test/setup.
PO_FILES := $(wildcard service/translations/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)

%.mo: %.po | $(STAMP)
	$(BIN)/pybabel --quiet compile --statistics -i $< -o $@

translations: $(MO_FILES)

setup: $(STAMP) $(NODE_STAMP) $(MO_FILES)

run: $(STAMP) $(NODE_STAMP) $(MO_FILES)
	$(BIN)/homeschool db upgrade
	$(BIN)/homeschool validate
	$(BIN)/homeschool serve

test: $(STAMP) $(NODE_STAMP) $(MO_FILES)
	$(BIN)/ruff check service tests features bench conftest.py
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: $(STAMP) $(NODE_STAMP) $(MO_FILES)
	$(BIN)/python -m bench

bench-quick: $(STAMP) $(NODE_STAMP) $(MO_FILES)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) node_modules instance $(MO_FILES) .pytest_cache .ruff_cache .mypy_cache
