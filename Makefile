# Accretion Portal: `make run` serves the demo, `make test` runs every test.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1:8000

.PHONY: run test test-sqlite test-postgres bench setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	scripts/system-packages.sh runtime
	mkdir -p var
	DEBUG=true $(VENV)/bin/accretion migrate --noinput
	DEBUG=true $(VENV)/bin/accretion demo --address $(HOST)
	DEBUG=true scripts/serve.sh $(HOST)

test: $(STAMP)
	scripts/test.sh

test-sqlite: $(STAMP)
	TEST_DATABASES=sqlite scripts/test.sh

test-postgres: $(STAMP)
	TEST_DATABASES=postgres scripts/test.sh

bench: $(STAMP)
	scripts/bench.sh

clean:
	rm -rf $(VENV) var build *.egg-info
