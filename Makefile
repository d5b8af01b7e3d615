# Accretion Portal: `make run` serves the demo, `make test` runs every test.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1:8000

.PHONY: run test test-sqlite test-postgres bench setup lock audit clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
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

# Re-pin after changing pyproject.toml: install what it asks for, then write the versions installed.
lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	{ sed -n '1,2p' requirements.lock; $(PY) -m pip freeze --exclude-editable | grep -v '^accretion-portal'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

# Known vulnerabilities of the pinned packages (needs access to the PyPI vulnerability service).
audit: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check pip-audit
	$(VENV)/bin/pip-audit --strict --no-deps --disable-pip -r requirements.lock

clean:
	rm -rf $(VENV) var build *.egg-info
