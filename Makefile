# Two commands for a newcomer: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-slow test-all lint typecheck test-fast examples clean bench bench-check bench-check-fast bench-baseline bench-peers bench-profile bench-count constraints

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (set PYTHON=...)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

# The bundled example parks (summer and winter days), then the example VPP's day-ahead job:
# forecasts, park schedules, capacity report and bids for 15 July 2026; then the planner's
# sizing of the Wujin park on 12 representative days.
run: $(STAMP)
	$(BIN)/vpp examples --out out
	$(BIN)/vpp day-ahead scenarios/examples/vpp/changzhou-wuxi-demo.yaml --date 2026-07-15 --out out/day-ahead
	$(BIN)/vpp size scenarios/examples/planning/changzhou-wujin-mfg-2027.yaml --out out/size

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy vpp models forecasts scenarios services benchmarks

# The suite without the tests marked slow (~4 min of pytest on 2 cores; with them it was 9 min,
# too near the 10-minute budget). The slow ones (~5 min: the schemathesis contract run, the
# crash tests on both databases, the service load test, the OpenADR VTN, the planner's bundled
# scenario and Dask sweep) run in `make test-slow`; .ci/run runs both.
test: lint typecheck
	$(BIN)/python -m pytest -q -m "not slow"

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

test-all: test test-slow

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -x -m "not slow"

examples: $(STAMP)
	$(BIN)/python -m scenarios.generate_examples

# Benchmarks (benchmarks/README.md). CASE=large-park for bench-profile.
bench: $(STAMP)
	$(BIN)/vpp bench run --out out/bench

bench-check: $(STAMP)
	$(BIN)/vpp bench check --out out/bench

# The CI subset of the gate (a minute or two); .ci/run calls it after the tests.
BENCH_MAX_SLOWDOWN ?= 0.25
bench-check-fast: $(STAMP)
	$(BIN)/vpp bench check --fast --max-slowdown $(BENCH_MAX_SLOWDOWN) --out out/bench-fast

# Instruction counts under callgrind against benchmarks/counts_baseline.json: the repeatable gate.
bench-count: $(STAMP)
	$(BIN)/vpp bench count --out out/bench-count

# Re-pin constraints.txt from the current venv (after changing pyproject.toml's dependencies).
constraints: $(STAMP)
	{ sed -n '/^#/p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

bench-baseline: $(STAMP)
	$(BIN)/vpp bench baseline --out out/bench

# Peers in their own environments under .venv-peers (created on first use).
bench-peers: $(STAMP)
	$(BIN)/vpp bench peers --out out/bench

CASE ?= large-park
bench-profile: $(STAMP)
	$(BIN)/vpp bench profile $(CASE) --out out/bench

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
