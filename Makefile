# Parley's two set-up commands are `make serve` and `make test`; everything else here serves them.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_PROGRESS_BARS := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: serve test install install-test browser services bench widget lock clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

# axe-core (npm, pinned in package-lock.json) for the accessibility checks in tests/browser; Node is not needed to serve.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: the accessibility tests (axe-core) will be skipped" >&2; fi

install: $(VENV)/.installed node_modules/.installed

## Install everything, load the demo knowledge base and accounts, and serve on http://$(HOST):$(PORT)
serve: install
	$(PY) widget/build.py  # customers get the minified widget (the budget in tests/browser/test_widget.py)
	$(VENV)/bin/parley demo
	$(VENV)/bin/parley serve --demo --host $(HOST) --port $(PORT)

## Debian's Chromium for the browser tests (Playwright never downloads a browser here)
browser:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

## PostgreSQL and Redis for the contract and scale-out tests, started if they are not running
services:
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
	@for i in $$(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && exit 0; sleep 1; done; echo "services did not start" >&2; exit 1

## Install what the tests need and run the whole suite (benchmarks are skipped; see `make bench`).
## Test files are spread over TEST_WORKERS processes (most of a test's time is a server starting or
## a client waiting); then the browser tests and the few marked `serial` run one at a time, so that
## Chromium's timeouts and the fault tests' bounds measure the desk, not another test's load.
TEST_WORKERS ?= 2
test: install browser services
	$(PY) widget/build.py
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m 'not benchmark and not serial and not browser'
	$(PY) -m pytest -m '(serial or browser) and not benchmark'

## Build the widget into widget/dist (optional: the server serves widget/src when dist is older) and check its size budget
widget: install
	$(PY) widget/build.py --check

## The slow benchmarks (numbers go to bench/results/ and the README)
bench: install
	$(PY) -m pytest -m benchmark -s

## Re-pin constraints.txt to the newest releases pyproject.toml allows (then run make test before committing it)
lock:
	rm -rf $(VENV)-lock && $(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/pip install --quiet -e '.[test]'
	{ sed -n 1,2p constraints.txt; $(VENV)-lock/bin/pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > constraints.new
	mv constraints.new constraints.txt && rm -rf $(VENV)-lock

clean:
	rm -rf $(VENV) data test-artifacts .pytest_cache
