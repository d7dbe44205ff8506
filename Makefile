# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
BENCH_CASES ?= 1000000

.PHONY: run test lint bench clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or make PYTHON=python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(BIN)/.installed  ## start the service with demo data (embedded DB/Redis unless DATABASE_URL/REDIS_URL)
	$(BIN)/python -m casework.devserver

test: $(BIN)/.installed  ## the whole suite (CASEWORK_TEST_DATABASE_URL/REDIS_URL or embedded servers)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(BIN)/.installed  ## every benchmark (BENCH_CASES=20000 for a quick run; ~25 minutes at 1M)
	$(BIN)/python -m bench.intake
	$(BIN)/python -m bench.lookup --cases $(BENCH_CASES)
	$(BIN)/python -m bench.statistics --cases $(BENCH_CASES)

lint: $(BIN)/.installed
	$(BIN)/ruff check casework reports seed bench tests
	$(BIN)/ruff format --check casework reports seed bench tests
	$(BIN)/mypy --check-untyped-defs casework reports seed

clean:
	rm -rf $(VENV) instance
