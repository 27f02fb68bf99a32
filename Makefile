# Thin targets over the `sca` command. Every target sets itself up first.
#   make reproduce [EXP=experiments/smoke.yaml] [SET="key=value key2=value2"]
#   make data | train | eval [EXP=...]   the recipe's data stages / SFT / evaluation (with what they need)
#   make ablations | table8 | table9 | table10 | table11   the paper's tables (GPU recipes)
#   make regress-model MODEL=org/new BASELINE=org/old
#   make test | make bench | make status
#   make leaderboard [EXP=recipe.yaml] [SET="key=value"] [FILES="run_root_or_artifact_or_eval_results ..."]
#   make regress FILES="BASE NEW" [ARGS="--alpha 0.01 --margin 1 --max-flips 0"]

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

.PHONY: setup test bench reproduce status data train eval ablations table8 table9 table10 table11 \
	regress-model verify-data leaderboard regress clean

setup: $(STAMP)

$(STAMP): requirements.lock requirements-nodeps.lock pyproject.toml
	@command -v bwrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get install -y -q bubblewrap >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q bubblewrap >/dev/null 2>&1; }); } || \
	  echo "setup: bubblewrap not installed; the sandbox will report which isolation layers it lacks"
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }); } || \
	  echo "setup: chromium not installed; the leaderboard's headless-browser check will be skipped"
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

# Parts of a recipe: each runs the named stages and what they need, reusing what is done.
data: setup
	$(BIN)/sca run $(EXP) $(SET) --only select
train: setup
	$(BIN)/sca run $(EXP) $(SET) --only sft
eval: setup
	$(BIN)/sca run $(EXP) $(SET) --only '*evaluate'

table8 table9 table10 table11: setup
	$(BIN)/sca run experiments/paper/$@.yaml $(SET)
ablations: table9 table10 table11

BENCHMARK_STAGES := he mbpp lcb evoeval classeval
regress-model: setup
	@test -n "$(MODEL)" -a -n "$(BASELINE)" || { echo 'usage: make regress-model MODEL=org/new BASELINE=org/old' >&2; exit 2; }
	$(BIN)/sca run experiments/paper/regress-model.yaml \
	  $(foreach s,$(BENCHMARK_STAGES),stages.new_$(s).with.model=$(MODEL) stages.base_$(s).with.model=$(BASELINE)) \
	  stages.new_lcb.with.after_release=$(MODEL) stages.base_lcb.with.after_release=$(BASELINE) $(SET)

# Markdown, HTML (checked in headless chromium), PNG under runs/leaderboard/, from the recipe's evaluate
# stages, or from FILES (run roots, evaluate artifacts, eval_results.json files).
leaderboard: setup
	$(BIN)/sca leaderboard $(if $(FILES),$(FILES),$(EXP) $(SET)) --out runs/leaderboard $(ARGS)

# Paired significance test of NEW against BASE; exit 1 on a significant drop.
regress: setup
	@test -n "$(FILES)" || { echo 'usage: make regress FILES="BASE NEW" [ARGS="--margin 1"]' >&2; exit 2; }
	$(BIN)/sca regress $(FILES) $(ARGS)

# Verify every locked dataset file; downloads what the mirror lacks (needs internet).
verify-data: setup
	$(BIN)/sca data verify --fetch

clean:
	rm -rf runs .pytest_cache
