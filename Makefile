# The two commands in the README: `make run` and `make test`. Both set everything up first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench clean servers

run: $(STAMP)
	$(BIN)/jointly run

test: $(STAMP) servers lint
	@$(BIN)/pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

# The tests talk to real servers and a real browser: Dovecot for IMAP (aiosmtpd comes with the dev
# dependencies), PostgreSQL for the database store, and Chromium for the chronology. Installed here
# when running as root; otherwise those tests skip, saying how to install them.
servers:
	@command -v dovecot >/dev/null || test -x /usr/sbin/dovecot || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing dovecot for the IMAP tests" >&2; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends dovecot-imapd dovecot-core >/dev/null; } \
	    || echo "could not install dovecot: the IMAP tests will be skipped" >&2; \
	  else echo "IMAP tests will be skipped: apt-get install dovecot-imapd dovecot-core" >&2; fi; }
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing postgresql for the database store's tests" >&2; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends postgresql >/dev/null; } \
	    || echo "could not install postgresql: the database store's tests will be skipped" >&2; \
	  else echo "the database store's tests will be skipped: apt-get install postgresql" >&2; fi; }
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing chromium for the chronology test" >&2; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends chromium >/dev/null; } \
	    || echo "could not install chromium: the browser test will be skipped" >&2; \
	  else echo "the browser test will be skipped: apt-get install chromium" >&2; fi; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy flows store bot mail

bench: $(STAMP)
	@$(BIN)/python -m bench

# Set-up messages go to stderr so that `make bench` prints nothing but JSON on stdout.
$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (python3.11 or python3 on PATH)" >&2; exit 1; }
	@echo "setting up $(VENV) with $(PYTHON)" >&2
	@$(PYTHON) -m venv $(VENV) >&2
	@$(BIN)/pip install --quiet --upgrade pip >&2
	@$(BIN)/pip install --quiet -e '.[dev]' >&2
	@touch $@

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
