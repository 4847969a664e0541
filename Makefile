# Two commands matter: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COLLECTION_LINK := .collections/ansible_collections/voiceagent/models
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: setup demo facts test unit integration lint docs-check build clean

$(BIN)/ansible: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../.. $@

setup: $(BIN)/ansible $(COLLECTION_LINK)

# Run the real site.yml on localhost against a built-in mirror of real-format
# stand-in files (no internet), twice, and print the fleet report.
demo: setup
	$(BIN)/python demo/run_demo.py

# Show this host's hardware facts and the tier decisions of the example hosts.
facts: setup
	$(BIN)/ansible-playbook playbooks/demo.yml

test: setup lint docs-check build unit integration

unit: setup
	$(BIN)/pytest tests/unit -q -p no:cacheprovider || [ $$? -eq 5 ]

integration: setup
	$(BIN)/pytest tests/integration -q -p no:cacheprovider || [ $$? -eq 5 ]

lint: setup
	$(BIN)/ansible-lint --profile production

# ansible-doc must render every module and filter.
docs-check: setup
	$(BIN)/ansible-doc -t module voiceagent.models.hardware_facts > /dev/null
	$(BIN)/ansible-doc -t module voiceagent.models.model_file > /dev/null
	$(BIN)/ansible-doc -t module voiceagent.models.model_plan > /dev/null
	$(BIN)/ansible-doc -t module voiceagent.models.env_file > /dev/null
	$(BIN)/ansible-doc -t filter voiceagent.models.select_tier > /dev/null
	$(BIN)/ansible-doc -t filter voiceagent.models.provision_plan > /dev/null
	$(BIN)/ansible-doc -t filter voiceagent.models.fleet_report > /dev/null
	$(BIN)/ansible-doc -t role voiceagent.models.provision > /dev/null
	@echo "ansible-doc renders every plugin"

build: setup
	mkdir -p build
	$(BIN)/ansible-galaxy collection build --force --output-path build .
	rm -rf build/install
	$(BIN)/ansible-galaxy collection install --force -p build/install build/voiceagent-models-*.tar.gz
	@echo "collection tarball builds and installs"

clean:
	rm -rf build .pytest_cache .collections .demo
