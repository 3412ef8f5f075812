# Two commands do all the set-up on a machine with python3: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test test-sqlite test-postgres lint install clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) -m manage run

lint: install
	$(PY) -m ruff check .

# The whole suite twice: on the `make run` default (SQLite, in-process jobs), then on PostgreSQL + Redis
# (skipped with a reason when PostgreSQL is not reachable; required with CI=true).
test: install lint test-sqlite test-postgres

test-sqlite: install
	TEST_ENGINE=sqlite $(PY) -m pytest

test-postgres: install
	TEST_ENGINE=postgres $(PY) -m pytest

clean:
	rm -rf var/*.db var/run
