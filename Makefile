# The only commands a newcomer needs. Each creates the virtual environment itself.
PYTHON ?= python3
TORCH_INDEX ?=  # e.g. --index-url https://download.pytorch.org/whl/cpu where PyPI gives CUDA
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.rnnkit-installed

.PHONY: demo gradients test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# pinned first: an unpinned torch pulls a multi-GB CUDA build
	$(BIN)/pip install --quiet $(TORCH_INDEX) torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## the main job: walk-forward forecast, buy/sell/hold and backtest on AAPL
	$(BIN)/rnnkit stocks --symbols AAPL --out runs/demo

gradients: $(STAMP)  ## vanishing/exploding gradients made visible (no data needed)
	$(BIN)/rnnkit diagnose --task adding --cells rnn,lstm,gru --length 100 --out runs/gradients

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy src

test: lint  ## ruff, mypy, then the test suite (slow real-data tests excluded)
	$(BIN)/python -m pytest -q

bench: $(STAMP)  ## speed benchmarks; writes benchmarks/results/*.json
	$(BIN)/python benchmarks/layer_throughput.py

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
