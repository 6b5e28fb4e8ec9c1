# Roadmap Tracker: `make run` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export FLASK_APP := tracker

.PHONY: run test venv lint bench clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

venv: $(BIN)/.installed

## Start the app and its scheduler on SQLite (instance/tracker.db), demo data loaded the first time.
run: venv
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	$(BIN)/flask serve --port $(PORT)

## Run the test suite on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set.
test: venv
	$(BIN)/python -m pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== second pass on PostgreSQL ($$TEST_DATABASE_URL) =="; \
		TRACKER_TEST_DB=postgresql $(BIN)/python -m pytest; \
	fi

## Static security checks: bandit, medium severity and above, over the application code.
lint: venv
	$(BIN)/bandit -c pyproject.toml -r tracker models views jobs exports --severity-level medium --confidence-level low -q

clean:
	rm -rf $(VENV) instance/*.db* .pytest_cache
