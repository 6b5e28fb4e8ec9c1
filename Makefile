# Roadmap Tracker: `make run` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export FLASK_APP := tracker

.PHONY: run test bench-smoke venv venv-test lint bench clean translations assets lock

## Installs from the lock files, every package pinned with its hashes (`make lock` makes them
## from pyproject.toml): requirements.lock what running needs, requirements-test.lock that
## and the test extra (pytest, Playwright, schemathesis, hypothesis, bandit). The project itself
## is installed last, without dependencies.
$(BIN)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(BIN)/.installed-test: requirements-test.lock $(BIN)/.installed
	$(BIN)/pip install --quiet --require-hashes -r requirements-test.lock
	touch $@

## Regenerate both lock files after a change of pyproject.toml's pins, with pip-tools in a
## venv of its own (build/locktools), hashes from the package index alone (no local wheel
## folder or mirror of this machine's pip configuration). A pin of the lock that still fits is
## kept; `make lock LOCK_ARGS=--upgrade` takes the newest of every unpinned dependency, and
## `LOCK_ARGS="-P NAME"` of one.
PIP_TOOLS_VERSION := 7.6.2
LOCK_VENV := build/locktools
LOCK_ARGS ?=
PIP_COMPILE := env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make lock" \
	$(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links
lock:
	test -x $(LOCK_VENV)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_VENV) && \
		$(LOCK_VENV)/bin/pip install --quiet pip-tools==$(PIP_TOOLS_VERSION); }
	$(PIP_COMPILE) $(LOCK_ARGS) --output-file requirements.lock pyproject.toml
	$(PIP_COMPILE) $(LOCK_ARGS) --extra test --output-file requirements-test.lock pyproject.toml

## The Hindi catalogue, compiled from translations/*/LC_MESSAGES/messages.po (the .mo is not committed).
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

%.mo: %.po $(BIN)/.installed
	$(BIN)/pybabel compile --statistics -d translations

## Static assets, built once: plotly.js's partial bundle (plotly.js-basic-dist-min, version and
## sha512 pinned in deploy/build_assets.py, fetched with `npm pack`, not committed), and a .gz
## and .br beside every CSS/JS file, sent precompressed by the app and by nginx (gzip_static).
PLOTLY_JS_VERSION := 4.1.1
PLOTLY_BUNDLE := static/vendor/plotly-basic-$(PLOTLY_JS_VERSION).min.js
$(PLOTLY_BUNDLE): deploy/build_assets.py | $(BIN)/.installed
	$(BIN)/python deploy/build_assets.py --force

assets: $(PLOTLY_BUNDLE) $(BIN)/.installed
	$(BIN)/python deploy/build_assets.py --compress

venv: $(BIN)/.installed $(CATALOGUES) assets

venv-test: venv $(BIN)/.installed-test

## Re-extract every interface string into translations/messages.pot and update each catalogue;
## then translate the new entries (empty msgstr) in translations/hi/LC_MESSAGES/messages.po.
translations: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --no-location --sort-output \
		--project "Roadmap Tracker" --version 0.1 --msgid-bugs-address "" \
		-o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile --statistics -d translations

## Start the app and its scheduler on SQLite (instance/tracker.db), demo data loaded the first time.
run: venv
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	$(BIN)/flask serve --port $(PORT)

## Run the test suite on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set: each pass
## on WORKERS pytest-xdist workers (a database each; WORKERS=1 runs in one process), with line
## and branch coverage printed and combined over both passes; the SQLite pass, and then both
## passes together, fail below the floor in tests/coverage_floor.json. The benchmark smoke test is `make bench-smoke`. See README, Tests.
WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest
XDIST = $(if $(filter-out 0 1,$(WORKERS)),-n $(WORKERS) --dist loadgroup,)
COVERAGE := --cov --cov-report=term:skip-covered --cov-report=json:coverage.json
test: venv-test
	$(PYTEST) $(XDIST) $(COVERAGE)
	$(BIN)/python .ci/coverage_floor.py coverage.json
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== second pass on PostgreSQL ($$TEST_DATABASE_URL) =="; \
		TRACKER_TEST_DB=postgresql $(PYTEST) $(XDIST) $(COVERAGE) --cov-append \
		&& echo "== coverage of both passes ==" \
		&& $(BIN)/python .ci/coverage_floor.py coverage.json; \
	fi

## The benchmark harness at a tiny scale (tests/test_bench_smoke.py, marker bench_smoke), once:
## on PostgreSQL when TEST_DATABASE_URL is set (the generator's COPY path), else on SQLite.
bench-smoke: venv-test
	@if [ -n "$$TEST_DATABASE_URL" ]; then export TRACKER_TEST_DB=postgresql; fi; \
		$(PYTEST) -m bench_smoke tests/test_bench_smoke.py

## Static security checks: bandit, medium severity and above, over the application code.
lint: venv-test
	$(BIN)/bandit -c pyproject.toml -r tracker models views jobs exports --severity-level medium --confidence-level low -q

## Benchmarks: `make bench` (SQLite), `make bench DB=postgresql`, `make bench SCALES=1000,10000`.
## Prints `name value unit` per figure and writes bench/results/latest.json. See README, Performance.
DB     ?= sqlite
ALL_SCALES := 1000,10000,100000
SCALES ?= $(if $(SCALE),$(SCALE),$(ALL_SCALES))
LOAD_SECONDS ?= 30
BENCH_ARGS ?=
bench: venv-test
	$(BIN)/python -m bench.run --db $(DB) --scales $(SCALES) --load-seconds $(LOAD_SECONDS) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build/locktools instance/*.db* .pytest_cache .coverage .coverage.* coverage.json \
		translations/*/LC_MESSAGES/*.mo static/vendor
	find static -name '*.gz' -o -name '*.br' | xargs rm -f
