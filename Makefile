# Two commands do all the set-up on a machine with python3: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# pip's "a new release of pip is available" notice (once a week) is not the newcomer's business: the sign-in URL
# is the first thing `make run` prints
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run run-site test test-sqlite test-postgres lint install clean translations browser

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) -m manage run

# A district hospital's own stack on its LAN (README "A site runs alone"): as `make run`, the gateway on every address.
run-site: install
	GATEWAY_BIND_HOST=$${GATEWAY_BIND_HOST:-0.0.0.0} $(PY) -m manage run

lint: install
	$(PY) -m ruff check .

# The whole suite twice: on the `make run` default (SQLite, in-process jobs), then on PostgreSQL + Redis
# (skipped with a reason when PostgreSQL is not reachable; required with CI=true).
test: install lint browser test-sqlite test-postgres

# The browser tests (tests/screens) drive Debian's Chromium: installed here when it is missing and this user is root
# with apt-get; otherwise they are skipped with the reason (and fail with CI=true).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium) \
			|| echo "chromium could not be installed: the browser tests will skip (fail with CI=true)"; \
	else echo "Browser tests skip: /usr/bin/chromium is missing and only root with apt-get can install it here"; fi

# Each engine's suite runs on PYTEST_WORKERS pytest-xdist workers (0: in pytest's own process). worksteal hands each
# worker a run of consecutive tests, so a module's shared stack of real processes mostly starts once.
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist worksteal

test-sqlite: install
	TEST_ENGINE=sqlite $(PY) -m pytest $(PYTEST_PARALLEL)

test-postgres: install
	TEST_ENGINE=postgres $(PY) -m pytest $(PYTEST_PARALLEL)

# The screens' messages (gateway/translations; the compiled .mo files are committed, so a fresh clone needs no step):
# extract from the code and templates, merge into each language, then translate the new entries of vi, and compile.
translations: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l --no-location --sort-output --project hospital-screens \
		--copyright-holder "" -o gateway/translations/messages.pot .
	$(VENV)/bin/pybabel update -i gateway/translations/messages.pot -d gateway/translations --no-fuzzy-matching --ignore-obsolete -w 120
	$(VENV)/bin/pybabel compile -d gateway/translations

clean:
	rm -rf var/*.db var/run
