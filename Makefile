# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 5000
PYTEST_WORKERS ?= 2

.PHONY: demo test test-fast install serve worker scheduler lint bench vendor chromium pdf-libs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## make demo: migrate, load the demo agency, recompute, serve on http://127.0.0.1:5000
demo: $(STAMP) pdf-libs
	$(BIN)/agency db upgrade
	$(BIN)/agency demo load
	$(BIN)/agency recompute all
	$(BIN)/agency alerts evaluate
	@echo
	@echo "  Agency demo on http://$(HOST):$(PORT)  (API docs: http://$(HOST):$(PORT)/api/docs)"
	@echo "  Log in as admin@agency.example / demo-password-2026"
	@echo "  (also manager1@agency.example, manager2@..., manager3@..., analyst@... with the same password;"
	@echo "   creator@agency.example opens the creator portal)"
	@echo
	@if [ -n "$$REDIS_URL" ]; then \
	  echo "  REDIS_URL is set: starting a worker and the scheduler beside the web server"; \
	  trap 'kill 0' EXIT INT TERM; \
	  $(BIN)/agency worker & $(BIN)/agency scheduler & \
	  $(BIN)/gunicorn --config deploy/gunicorn.conf.py --bind $(HOST):$(PORT) wsgi:app; \
	else \
	  $(BIN)/gunicorn --config deploy/gunicorn.conf.py --bind $(HOST):$(PORT) wsgi:app; \
	fi

serve: $(STAMP)
	$(BIN)/gunicorn --config deploy/gunicorn.conf.py --bind $(HOST):$(PORT) wsgi:app

## make test: everything the suite needs, then the suite (PostgreSQL, the API contract, then the API tests on SQLite)
test: $(STAMP) chromium pdf-libs
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --ignore=tests/contract
	# schemathesis generates its items at collection; it runs in one process so each is collected once.
	$(BIN)/pytest -p no:xdist tests/contract
	TEST_DATABASE_URL=sqlite:// $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -m api --ignore=tests/contract

## make test-fast: the edit-run loop (no browser, no subprocess tests, no contract run)
test-fast: $(STAMP) pdf-libs
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --ignore=tests/contract -m "not browser and not slow"

## make lint: style (ruff), formatting (ruff format) and the dependency contracts (import-linter)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

chromium:
	@test -x /usr/bin/chromium || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Invoice PDFs (WeasyPrint) need Debian's pango, harfbuzz and a font.
pdf-libs:
	@ldconfig -p | grep -q 'libpangoft2-1.0.so.0' || { \
	  echo "Installing Debian's pango libraries for invoice PDFs"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core >/dev/null; }

bench: $(STAMP)
	@for script in eligibility diversification alerts api_load ui_pages; do echo "== bench/$$script.py"; $(BIN)/python bench/$$script.py; done

vendor:
	rm -rf /tmp/agency-vendor && mkdir -p /tmp/agency-vendor
	cd /tmp/agency-vendor && npm pack --silent swagger-ui-dist@5.35.0 htmx.org@2.0.11 chart.js@4.6.1 axe-core@4.14.1 \
	  && for f in *.tgz; do mkdir -p "$${f%.tgz}" && tar xzf "$$f" -C "$${f%.tgz}"; done
	cp /tmp/agency-vendor/swagger-ui-dist-5.35.0/package/{swagger-ui-bundle.js,swagger-ui-standalone-preset.js,swagger-ui.css,LICENSE,NOTICE} agency/web/static/vendor/swagger-ui/
	cp /tmp/agency-vendor/htmx.org-2.0.11/package/{dist/htmx.min.js,LICENSE} agency/web/static/vendor/htmx/
	cp /tmp/agency-vendor/chart.js-4.6.1/package/{dist/chart.umd.min.js,LICENSE.md} agency/web/static/vendor/chartjs/
	cp /tmp/agency-vendor/axe-core-4.14.1/package/{axe.min.js,LICENSE,LICENSE-3RD-PARTY.txt} agency/web/static/vendor/axe-core/

clean:
	rm -rf $(VENV) instance/*.sqlite3* .pytest_cache
