# Thin targets over the `sca` command. Every target sets itself up first.
#   make reproduce [EXP=experiments/smoke.yaml] [SET="key=value key2=value2"]
#   make test | make bench | make status

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXP ?= experiments/smoke.yaml
SET ?=
# Offline mirror of benchmark data; users with internet may leave it unset.
SCA_DATA_DIR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
export SCA_DATA_DIR

SETUP_HASH := $(shell cat requirements.lock requirements-nodeps.lock pyproject.toml | sha256sum | cut -c1-16)
STAMP := $(VENV)/.setup-$(SETUP_HASH)

.PHONY: setup test bench reproduce status data clean

setup: $(STAMP)

$(STAMP): requirements.lock requirements-nodeps.lock pyproject.toml
	@command -v bwrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get install -y -q bubblewrap >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q bubblewrap >/dev/null 2>&1; }); } || \
	  echo "setup: bubblewrap not installed; the sandbox will report which isolation layers it lacks"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -r requirements-nodeps.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.setup-* && touch $@

test: setup
	$(BIN)/python -m pytest -n auto -q

bench: setup
	$(BIN)/sca bench

reproduce: setup
	$(BIN)/sca reproduce $(EXP) $(SET)

status: setup
	$(BIN)/sca status $(EXP) $(SET)

# Verify every locked dataset file; downloads what the mirror lacks (needs internet).
data: setup
	$(BIN)/sca data verify --fetch

clean:
	rm -rf runs .pytest_cache
