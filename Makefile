# Driftline's two entry points, and the steps under them. Needs only Python >= 3.11 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DURATION ?= 120

.PHONY: demo test lint typecheck unit bench clean

# The live demo on the embedded SQLite default.
demo: $(STAMP)
	$(BIN)/driftline demo --duration $(DEMO_DURATION)

# The whole test suite: lint, format check, types, then every test. Debian packages the
# tests drive (Chromium, promtool, nats-server) are installed first where apt-get allows.
# Everything but the end-to-end tests runs on TEST_WORKERS processes (pytest-xdist); the
# end-to-end tests, which time a whole running system, run afterwards with the machine to
# themselves.
TEST_WORKERS ?= 2
test: $(STAMP) lint typecheck
	bash .ci/system-packages
	bash .ci/nats-server
	$(BIN)/pytest -n $(TEST_WORKERS) -m "not e2e"
	$(BIN)/pytest -m e2e

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/storage/run.py --write-results benchmarks/RESULTS.md

# The OIP v2 gRPC modules in serving/grpc/ from grpc_predict_v2.proto (grpcio-tools); the
# generated files are committed.
.PHONY: grpc
grpc: $(STAMP)
	$(BIN)/python -m serving.grpc.codegen

# The HTTP API reference, docs/api/monitor.md and openapi-monitor.json, from the monitor's
# OpenAPI document.
.PHONY: docs
docs: $(STAMP)
	$(BIN)/python scripts/generate_api_docs.py

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Driftline needs Python >= 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
