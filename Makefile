# Retail Control Tower: the two commands a newcomer needs are `make demo` and `make test` (CI: `make test-all`).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Python caches compiled modules (.pyc) unless this is set; with it, every Airflow process and
# task compiles thousands of modules again (import airflow.sdk: ~7 s of CPU instead of ~3 s).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install demo test test-all bench up down status lint lint-sql secrets docs clean

# Two locks: requirements.txt is what production runs (the image installs only it);
# requirements-dev.txt adds the local stack's stand-ins, the test tools and the linters.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check uv
	@$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -r requirements.txt -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed ## create .venv with both pinned locks (production's and development's)

demo: install ## run a week of the daily pipeline on the local stack, print a summary (RCT_EXECUTOR=celery: on Celery workers)
	@if [ "$$RCT_EXECUTOR" = celery ]; then local/ensure_redis.sh; fi
	@$(PY) -m local.demo

test: install ## the quick tier (about 6 minutes): lint, secret scan, unit and DAG tests, one scale-1 day end to end on a private stack
	@$(VENV)/bin/ruff check .
	@$(MAKE) --no-print-directory secrets
	@mkdir -p var && $(PY) -m pytest -m "not integration or smoke" --junitxml=var/test-report.xml

lint-sql: install ## sqlfluff over every rendered SQL template (.sqlfluff; also part of make test)
	@$(PY) -m pytest -q -p no:cacheprovider tests/unit/test_sql_lint.py

test-all: install ## everything, as CI runs it: the quick tier's checks plus every integration module and the browser test
	@$(VENV)/bin/ruff check .
	@$(MAKE) --no-print-directory secrets
	@local/ensure_chromium.sh
	@local/ensure_redis.sh
	@mkdir -p var && local/test_all.sh $(PY)

bench: install ## benchmarks on a private stack: prints a table, writes benchmarks/results/<date>.json (about 40 minutes on a fast host, 75 on a slow one)
	@$(PY) -m benchmarks.harness $(BENCH_ARGS)

up: install ## start the local stack, bootstrap the warehouse, keep the Airflow UI up (RCT_EXECUTOR=celery: Redis and three Celery workers)
	@if [ "$$RCT_EXECUTOR" = celery ]; then local/ensure_redis.sh; fi
	@$(PY) -m local.up

down: ## stop every process of the local stack
	@if [ -x $(PY) ]; then $(PY) local/stack.py down; fi

status:
	@$(PY) local/stack.py status

lint: install
	@$(VENV)/bin/ruff check .

# detect-secrets over every file git tracks or would track; a test fixture's fake secret is
# marked on its line with `# pragma: allowlist secret`.
secrets: install ## scan the repository for committed secrets (part of make test and make test-all)
	@git ls-files -z --cached --others --exclude-standard | xargs -0 $(VENV)/bin/detect-secrets-hook \
		&& echo "detect-secrets: no secrets found"

docs: install ## re-render the generated docs and manifests: docs/feeds.md, docs/metrics.md, the transform graph
	@$(PY) -m include.contracts render
	@$(PY) -m include.declarations render
	@$(PY) -m include.transform.graph --write

clean: down ## stop the stack and delete all local state (var/)
	@rm -rf var
