# Avatar Studio: `make run` to start everything, `make test` to run the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test lint bench chaos migrations-check deploy-check clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: $(BIN)/python requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The development SECRET_KEY is generated once into var/, so web, worker and beat share it; a
# .env saying DEBUG=1 (written once, never overwritten) lets manage.py commands beside it use the
# same local settings. Production has no .env and, without DEBUG, refuses to start without SECRET_KEY.
run: $(VENV)/.runtime
	@test -e .env || printf '# Local development, written by `make run`: manage.py and celery read it.\n# Delete it for production-like settings (which then need SECRET_KEY).\nDEBUG=1\n' > .env
	@mkdir -p $${VAR_DIR:-var} && test -s $${VAR_DIR:-var}/secret_key || (umask 077 && \
		$(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))' > $${VAR_DIR:-var}/secret_key)
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py sync_themes
	@echo
	@echo "  Avatar Studio: http://127.0.0.1:8000   (Ctrl-C stops web, worker and beat)"
	@echo
	PATH="$(BIN):$$PATH" DEBUG=$${DEBUG:-1} PYTHONUNBUFFERED=1 $(BIN)/honcho -f Procfile.dev start

# One test process per core (pytest-xdist), idle ones taking over the rest of a busy one's tests.
# PYTEST_ARGS comes last, so `make test PYTEST_ARGS="-n 0 tests/credits"` runs one process.
# Compiled modules are kept (PYTHONDONTWRITEBYTECODE emptied, should the shell set it): each test
# process would otherwise compile the project and rewrite the tests' asserts anew, seconds each.
test: $(VENV)/.dev
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n auto --dist worksteal $(PYTEST_ARGS)

bench: $(VENV)/.dev
	@command -v wrk >/dev/null 2>&1 || apt-get install -y -qq wrk >/dev/null 2>&1 \
		|| echo "wrk is not installed (apt-get install wrk): the load runs use Python threads"
	@command -v chromium >/dev/null 2>&1 || apt-get install -y -qq chromium >/dev/null 2>&1 \
		|| echo "chromium is not installed (apt-get install chromium): no first-view figures"
	$(BIN)/python -m bench $(BENCH_ARGS)

# Real processes crashed on purpose (a private redis-server, the sandbox, gunicorn, a prefork worker,
# beat); exits non-zero when an avatar is left unfinished, charged twice or missing an image.
chaos: $(VENV)/.dev
	@command -v redis-server >/dev/null 2>&1 || apt-get install -y -qq redis-server >/dev/null 2>&1 || true
	$(BIN)/python -m chaos $(CHAOS_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .

migrations-check: $(VENV)/.dev
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

# Production settings with no Stripe, SMTP or Astria account: the development stand-ins are used
# only because the ALLOW_* variables name them (without them the check fails, as it should).
deploy-check: $(VENV)/.runtime
	DEBUG=0 SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	ALLOWED_HOSTS=studio.example.com PUBLIC_URL=https://studio.example.com \
	ALLOW_TEST_CHECKOUT=1 ALLOW_CONSOLE_EMAIL=1 ALLOW_ASTRIA_SANDBOX=1 \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var
