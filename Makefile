# The two commands of the README:
#   make run    set up a fresh clone, build the indexes, map the bundled samples, start the service
#   make test   set up a fresh clone and run the tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup run serve test test-fast typecheck benchmark clean

setup: $(VENV)/.installed

# CPU torch 2.13.0 first (from this machine's disk), so sentence-transformers finds it
# and never pulls a CUDA build.
$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[model,dev]'
	touch $@

run: setup
	$(BIN)/competencymap index build --framework esco --framework sfs
	$(BIN)/competencymap map --framework esco --framework sfs --top-k 5 --format text < examples/micro_credential.txt
	$(BIN)/competencymap map --framework esco --framework sfs --top-k 5 --format text < examples/job_posting.txt
	$(BIN)/competencymap serve --framework esco,sfs

test: setup
	$(BIN)/python -m pytest -q

typecheck: setup
	$(BIN)/mypy api/

test-fast: setup
	$(BIN)/python -m pytest -q -m "not full"

benchmark: setup
	$(BIN)/python benchmarks/load_frameworks.py
	$(BIN)/python benchmarks/skill_extraction.py
	$(BIN)/python benchmarks/speed.py --build
	$(BIN)/python benchmarks/api_latency.py --requests 80
	$(BIN)/python benchmarks/demand.py --n 500 --by-month

clean:
	rm -rf $(VENV) indexes/frameworks indexes/esco indexes/sfs
