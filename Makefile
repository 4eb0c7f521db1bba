# GAN Studio: `make run` starts the whole stack, `make test` runs every test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
PYTEST_ARGS ?=

.PHONY: run test test-busy install install-dev migrate browser lint format clean examples

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip

$(RUNTIME_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(RUNTIME_STAMP) $@

install: $(RUNTIME_STAMP)

install-dev: $(DEV_STAMP)

migrate: $(RUNTIME_STAMP)
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python -m ganweb.devstack run

browser: $(DEV_STAMP)
	$(BIN)/python -m tests.browser_setup

test: install-dev browser
	$(BIN)/python manage.py check
	$(BIN)/python -m ganweb.devstack with-redis -- $(BIN)/python -m pytest $(PYTEST_ARGS)

# The reliability and worker tests beside two CPU hogs: waits are deadlines
# that scale with the machine (tests/deadlines.py), so these pass here too.
test-busy: install-dev
	$(BIN)/python -m ganweb.devstack with-redis -- $(BIN)/python -m tests.busy_machine \
		--hogs 2 -- $(BIN)/python -m pytest tests/reliability tests/workers $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf var/test_db.sqlite3 var/redis-test .pytest_cache

# The landing page's example images, made by the built-in models on built-in data.
examples: install
	$(BIN)/python -m gan_core train --model cgan --data builtin:digits --preset quick \
		--steps 800 --image-size 16 --out var/examples/cgan
	$(BIN)/python -m gan_core sample --checkpoint var/examples/cgan/checkpoints/latest.pt \
		--class-grid --per-class 10 --out static/img/examples/digits-cgan.png
	$(BIN)/python -m gan_core train --model gan --data builtin:ring8 --preset points \
		--seed 1 --out var/examples/ring8
	$(BIN)/python -m gan_core sample --checkpoint var/examples/ring8/checkpoints/latest.pt \
		--n 2500 --out static/img/examples/ring8-gan.png
