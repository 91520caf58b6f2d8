# Shipyard — every target installs what it needs into .venv/ first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test test-fast lint format typecheck bench services install clean airflow-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## make demo: install, then run the examples end to end on the embedded default store
demo: install
	$(BIN)/python examples/churn/churn.py
	$(BIN)/python examples/churn/monitoring_stage.py
	cd examples/churn && SHIPYARD_HOME=$(CURDIR)/.shipyard ../../$(BIN)/shipyard run churn
	cd examples/churn && SHIPYARD_HOME=$(CURDIR)/.shipyard ../../$(BIN)/shipyard run churn  # all cached
	$(BIN)/python examples/repeat_buyers/repeat_buyers.py
	$(BIN)/python examples/fraud/fraud.py

## make airflow-venv: Apache Airflow in its own venv, for the slow test that loads exported DAGs
AIRFLOW_VENV := .venv-airflow
$(AIRFLOW_VENV)/bin/airflow:
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/pip install --quiet "apache-airflow>=2.9"

airflow-venv: $(AIRFLOW_VENV)/bin/airflow

## make test: install, start services, lint, type-check and run every test (slow ones too)
test: install services lint typecheck airflow-venv
	$(BIN)/pytest -q -p no:cacheprovider

## make test-fast: the suite without tests marked slow
test-fast: install services
	$(BIN)/pytest -q -p no:cacheprovider -m "not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy src/

## make services: start PostgreSQL and Redis when they are down (tests fail loudly if still down)
services:
	@bash scripts/services.sh

## make bench: install the peers in their own venvs and run every benchmark
bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(AIRFLOW_VENV) .shipyard build dist src/*.egg-info
