# The two commands of the README: `make demo` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATA   ?= data/logs
PORT   ?= 5006

.PHONY: install demo test browser screenshots bench lint clean-demo notebooks

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# Demo history once (30 days), then the dashboard with a live stream of new executions.
demo: install
	@test -d $(DATA)/executions || $(BIN)/flowlogs demo --data $(DATA) --days 30 --per-day 500 --seed 1
	$(BIN)/flowlogs serve --data $(DATA) --port $(PORT) --live-demo

# Jupyter on notebooks/ (with papermill): the `notebooks` extra, then JupyterLab on 127.0.0.1 only, no browser
# opened: open the URL with the token it prints. On an empty data/logs a notebook's first cell writes demo history.
# --allow-root: the README's machine is set up as root, which Jupyter otherwise refuses.
$(BIN)/.notebooks: $(BIN)/.installed
	$(BIN)/pip install -q -e '.[dev,notebooks]'
	touch $@

notebooks: $(BIN)/.notebooks
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks --no-browser --allow-root

# Debian's Chromium drives the browser tests (never `playwright install`: it downloads a browser).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

test: install browser
	$(BIN)/python -m pytest -q

# The README's pictures under docs/, taken by the browser tests from demo history (a plain test run
# writes them to scratch files, so it leaves the tree clean).
screenshots: install browser
	FLOWLOGS_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/browser

# The comparison with SQLite and pandas at 100k executions (about 3 minutes); writes BENCHMARKS.md.
bench: install
	$(BIN)/python -m benchmarks.run --scale 100k

lint: install
	$(BIN)/ruff check dashboard tests benchmarks

clean-demo:
	rm -rf $(DATA)
