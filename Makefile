# Two commands on a fresh machine:
#   make run   — set up and run the service on the embedded default (SQLite in ./instance)
#   make test  — set up and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup lint clean bench bench-quick

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/homeschool db upgrade
	$(BIN)/homeschool validate
	$(BIN)/homeschool serve

test: $(STAMP)
	$(BIN)/ruff check service tests features bench conftest.py
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .mypy_cache
