# Two commands on a fresh machine:
#   make demo   creates .venv, installs modelworks with all extras, runs `modelworks demo`
#   make test   creates .venv if needed, installs the dev extras, runs the whole test suite
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

export KERAS_BACKEND := torch
export MPLBACKEND := Agg
export OMP_WAIT_POLICY := passive
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export HF_HUB_OFFLINE := 1

.PHONY: demo test install browser postgres lint bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=python3"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[all,dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/modelworks demo

# headless Chromium for the HTML report tests (Debian package); skipped quietly where apt is unavailable
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ; } || \
	  echo "warning: chromium not installed; browser tests will fail (apt-get install chromium)"

# PostgreSQL server binaries (Debian package) for the shared-study tests, which start their own
# throwaway server; the tests skip where it is missing
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
	  { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) ; } || \
	  echo "warning: PostgreSQL not installed; the shared-study tests will be skipped (apt-get install postgresql)"

test: install browser postgres
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

lint: install
	$(BIN)/ruff check src tests examples benchmarks

bench: install
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[bench]'
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) modelworks-demo modelworks-out .pytest_cache
