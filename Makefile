# The two quick-start commands: `make serve` (dashboard on the demo data) and `make test` (everything CI runs).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve test lint bench notebooks-refresh browser-deps clean-demo

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium drives the real-browser dashboard test (Playwright cannot download browsers here).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }
	@# poppler-utils: pdftoppm/pdftotext render the evidence PDF's pages in the tests.
	@command -v pdftoppm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq poppler-utils >/dev/null; fi; }

serve: install
	$(BIN)/compliance serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install browser-deps lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg notebooks/

# Re-execute every notebook in place on the demo database (after a change that alters a result).
notebooks-refresh: install
	$(BIN)/python notebooks/rebuild.py

bench: install
	$(BIN)/python bench/benchmark.py

clean-demo:
	rm -rf data/demo
