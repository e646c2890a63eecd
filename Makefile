# The two commands of the README:
#   make run    set up a fresh clone, build the indexes, map the bundled samples, start the service
#   make test   set up a fresh clone and run the tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup run serve test test-fast typecheck lint benchmark clean chromium

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
	@$(BIN)/competencymap serve --framework esco,sfs & server=$$!; trap 'kill $$server 2>/dev/null' INT TERM EXIT; \
	until $(BIN)/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)" 2>/dev/null; \
	do kill -0 $$server 2>/dev/null || exit 1; sleep 1; done; \
	echo; echo "The web page: http://127.0.0.1:8000/  (API documentation: http://127.0.0.1:8000/docs; Ctrl-C stops)"; \
	wait $$server

# The web page tests drive Debian's Chromium (Playwright never downloads a browser here).
chromium:
	@command -v chromium >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)

test: setup chromium
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy src/competencymap
	$(BIN)/python -m pytest -q

typecheck: setup
	$(BIN)/mypy src/competencymap

lint: setup
	$(BIN)/ruff check src tests benchmarks

test-fast: setup
	$(BIN)/python -m pytest -q -m "not full and not server and not browser"

# Every figure of the README's "Measured results", in the order it was measured (run it on a quiet
# machine: each script prints the load average before and after). About two hours on two cores.
benchmark: setup
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/speed.py --build --peer
	$(BIN)/python benchmarks/api_latency.py --requests 160
	$(BIN)/python benchmarks/demand.py --n 2000
	$(BIN)/python benchmarks/web_latency.py --repeat 5
	$(BIN)/python benchmarks/load_frameworks.py
	$(BIN)/python benchmarks/soak.py --duration 600
	$(BIN)/python benchmarks/demand.py --n 100000 --skip-single --workers 2
	$(BIN)/python benchmarks/skill_extraction.py
	$(BIN)/python benchmarks/skill_extraction.py --backend onnx
	$(BIN)/python benchmarks/skill_extraction.py --backend torch
	$(BIN)/python benchmarks/matching.py

clean:
	rm -rf $(VENV) indexes/frameworks indexes/esco indexes/sfs
