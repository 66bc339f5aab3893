# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
CORES  ?= 2
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: venv run lint test bench clean

venv: $(STAMP)

# The virtual environment, with acomflow installed (editable) and its test dependencies.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The whole workflow on config/config.yaml (by default: the embedded synthetic dataset), then
# its self-contained HTML report (maps, metrics and figures with captions).
REPORT := results/report.html
run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --report $(REPORT)
	@echo "Report: $(abspath $(REPORT))"

# Python (ruff: lint and format), Snakemake files (snakefmt) and the workflow (snakemake --lint).
LINTED := src tests scripts bench
lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/snakefmt --check Snakefile rules
	$(BIN)/snakemake --lint

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/detection.py
	$(BIN)/python bench/workflow.py

clean:
	rm -rf results logs benchmarks .snakemake
