"""Recipes: extends, overrides, typed validation, and one-line errors naming file and key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.config import load_recipe
from harness.errors import UserError

REPO = Path(__file__).resolve().parents[2]
TOY = "tests.runner.toy_stages"

BASE = f"""
experiment: base
wandb: {{mode: disabled}}
stages:
  produce:
    uses: "{TOY}:produce"
    with: {{n: 10, shards: 2}}
  scale:
    uses: "{TOY}:scale"
    inputs: [produce]
"""


@pytest.fixture()
def base(tmp_path: Path) -> Path:
    (tmp_path / "base.yaml").write_text(BASE)
    return tmp_path / "base.yaml"


def child(tmp_path: Path, body: str, name: str = "child.yaml") -> Path:
    path = tmp_path / name
    path.write_text("extends: base.yaml\n" + body)
    return path


def test_extends_overrides_and_typed_values(tmp_path, base):
    recipe = child(tmp_path, "experiment: child\nstages:\n  scale:\n    with: {factor: 7}\n")
    loaded = load_recipe(recipe, ["stages.produce.with.n=33", "description=from cli"])
    assert loaded.recipe.experiment == "child"
    assert loaded.stage_configs["produce"].n == 33 and loaded.stage_configs["produce"].shards == 2
    assert loaded.stage_configs["scale"].factor == 7
    assert loaded.recipe.description == "from cli"
    resolved = loaded.resolved()
    assert resolved["stages"]["produce"]["with"] == {"n": 33, "shards": 2, "delay_s": 0.0}
    assert resolved["stages"]["scale"]["inputs"] == ["produce"]


@pytest.mark.parametrize("body, overrides, expect_file, expect", [
    ("stages:\n  scale:\n    with: {factr: 3}\n", [], "child.yaml",
     "stages.scale.with.factr: unknown key (did you mean 'factor'?)"),
    ("stages:\n  scale:\n    with: {factor: many}\n", [], "child.yaml", "stages.scale.with.factor:"),
    ("experimnt: x\n", [], "child.yaml", "experimnt: unknown key (did you mean 'experiment'?)"),
    ("", ["stages.produce.with.shard=3"], "command line",
     "stages.produce.with.shard: unknown key (did you mean 'shards'?)"),
    ("stages:\n  scale:\n    inputs: [prodce]\n", [], "child.yaml", "unknown stage 'prodce' (did you mean 'produce'?)"),
    ("stages:\n  scale:\n    uses: toy_modl\n", [], "child.yaml", "stages.scale.uses: unknown stage 'toy_modl'"),
    ("wandb: {mode: sometimes}\n", [], "child.yaml", "wandb.mode:"),
])
def test_bad_config_names_file_and_key(tmp_path, base, body, overrides, expect_file, expect):
    recipe = child(tmp_path, body)
    with pytest.raises(UserError) as err:
        load_recipe(recipe, overrides)
    message = str(err.value)
    assert expect in message
    assert expect_file in message
    assert "\n" not in message


def test_error_in_parent_names_parent_file(tmp_path, base):
    base.write_text(BASE.replace("shards: 2", "shardz: 2"))
    with pytest.raises(UserError, match=r"base\.yaml: stages\.produce\.with\.shardz: unknown key"):
        load_recipe(child(tmp_path, ""))


def test_missing_extends_file(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("extends: nowhere.yaml\nexperiment: x\nstages: {}\n")
    with pytest.raises(UserError, match=r"r\.yaml: extends: file not found: .*nowhere\.yaml"):
        load_recipe(recipe)


def test_yaml_syntax_error_names_line(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("experiment: x\nstages:\n  a: [unclosed\n")
    with pytest.raises(UserError, match=r"r\.yaml:\d+: invalid YAML"):
        load_recipe(recipe)


def test_cli_bad_config_is_one_line_without_traceback(tmp_path, base):
    recipe = child(tmp_path, "stages:\n  scale:\n    with: {factr: 3}\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for command in ("run", "status"):
        out = subprocess.run([sys.executable, "-m", "harness.cli", command, str(recipe)], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 2
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1, out.stderr
        assert "child.yaml" in lines[0] and "stages.scale.with.factr" in lines[0] and "factor" in lines[0]
        assert "Traceback" not in out.stderr


def test_flags_may_sit_between_the_recipe_and_its_overrides(tmp_path, base):
    """`sca status RECIPE --json key=value`: the override still reaches the recipe (argparse alone rejects it)."""
    recipe = child(tmp_path, "")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-m", "harness.cli", "status", str(recipe), "--json",
                          "stages.produce.with.nn=1"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "command line: stages.produce.with.nn: unknown key" in out.stderr, out.stderr


def test_make_variable_overrides(tmp_path, base):
    """`make status EXP=... SET="key=value"` reaches the recipe."""
    recipe = child(tmp_path, "")
    out = subprocess.run(["make", "-s", "-C", str(REPO), "status", f"EXP={recipe}", "SET=stages.produce.with.nn=1"],
                         capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.returncode != 0
    assert "command line: stages.produce.with.nn: unknown key (did you mean 'n'?)" in out.stderr


def test_null_drops_an_inherited_stage(tmp_path, base):
    recipe = child(tmp_path, "stages:\n  scale: null\n")
    loaded = load_recipe(recipe)
    assert list(loaded.recipe.stages) == ["produce"]
    with pytest.raises(UserError, match="unknown stage 'produce'"):
        load_recipe(recipe, ["stages.produce=null", "stages.other.uses=" + TOY + ":scale",
                             "stages.other.inputs=[produce]"])
