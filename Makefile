# Roadmap Tracker: `make run` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export FLASK_APP := tracker

.PHONY: run test bench-smoke venv lint bench clean translations assets

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

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
test: venv
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
bench-smoke: venv
	@if [ -n "$$TEST_DATABASE_URL" ]; then export TRACKER_TEST_DB=postgresql; fi; \
		$(PYTEST) -m bench_smoke tests/test_bench_smoke.py

## Static security checks: bandit, medium severity and above, over the application code.
lint: venv
	$(BIN)/bandit -c pyproject.toml -r tracker models views jobs exports --severity-level medium --confidence-level low -q

## Benchmarks: `make bench` (SQLite), `make bench DB=postgresql`, `make bench SCALES=1000,10000`.
## Prints `name value unit` per figure and writes bench/results/latest.json. See README, Performance.
DB     ?= sqlite
ALL_SCALES := 1000,10000,100000
SCALES ?= $(if $(SCALE),$(SCALE),$(ALL_SCALES))
LOAD_SECONDS ?= 30
BENCH_ARGS ?=
bench: venv
	$(BIN)/python -m bench.run --db $(DB) --scales $(SCALES) --load-seconds $(LOAD_SECONDS) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance/*.db* .pytest_cache .coverage .coverage.* coverage.json \
		translations/*/LC_MESSAGES/*.mo static/vendor
	find static -name '*.gz' -o -name '*.br' | xargs rm -f
