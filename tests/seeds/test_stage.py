"""The seeds stage end to end through the runner on a small folder of real .py files.

Every function in the folder is planted to be stopped by exactly one step (or to survive), so the
counts in the manifest and in the W&B offline log can be checked step by step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness import data
from harness.config import load_recipe
from harness.runner import Runner
from tests.support.data import fetch_or_skip

REPO = Path(__file__).resolve().parents[2]

SHAPES = '''
"""Geometry helpers."""
import math
import os
from typing import Sequence


def distance(p, q):
    """Euclidean distance between two points given as (x, y) pairs."""
    return math.hypot(p[0] - q[0], p[1] - q[1])


def centroid(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """The mean point of a non-empty sequence of (x, y) pairs."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return sum(xs) / len(xs), sum(ys) / len(ys)


def undocumented(x):
    return x


def one_quote(x):
    "Not a triple-quoted docstring."
    return x


def show(point):
    """Print a point."""
    print(point)


def origin():
    """The origin."""
    return (0.0, 0.0)


def in_cwd(name):
    """Path of name in the current folder."""
    return os.path.join(os.getcwd(), name)


def halve(x):
    """Half of x. TODO: integers."""
    return x / 2


def scaled(x):
    """x times the module factor."""
    return x * FACTOR


FACTOR = 3


def label(n: int) -> str:
    """The number as text."""
    return n
'''

COPIES = '''
"""Copies of functions from shapes.py, as real code bases have."""
import math
from typing import Sequence


def centroid(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """The mean point of a non-empty sequence of (x, y) pairs."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return sum(xs) / len(xs), sum(ys) / len(ys)


def distance_between(p, q):
    """Euclidean distance between two points given as (x, y) pairs."""
    # straight-line distance
    return math.hypot(p[0] - q[0], p[1] - q[1])
'''

EXPECTED_DROPS = {"exact_dedup": 1, "return_value": 1, "argument": 1, "bad_words": 1, "bad_imports": 1,
                  "max_lines": 1, "decontaminate": 1, "near_dedup": 1, "undefined_names": 1, "typecheck": 1}


def write_corpus(root: Path) -> Path:
    pkg = root / "corpus" / "geom"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "shapes.py").write_text(SHAPES)
    (pkg / "zz_copies.py").write_text(COPIES)
    body = "\n".join(f"    total += {i}" for i in range(150))
    (pkg / "long.py").write_text(f'def accumulate(total):\n    """Add the first 150 numbers."""\n{body}\n    return total\n')
    task = next(r for r in data.iter_jsonl(fetch_or_skip("humanevalplus")) if r["task_id"] == "HumanEval/12")
    # HumanEval/12's canonical solution as the body of a seed, one indentation level deeper.
    body = textwrap.indent(textwrap.dedent(task["canonical_solution"]).strip("\n"), "    ")
    (pkg / "planted.py").write_text(f'def longest(strings):\n    """The longest string, first on ties."""\n{body}\n')
    return root / "corpus"


def write_recipe(tmp: Path, corpus: Path, root: str = "runs", **with_) -> Path:
    cfg = {"paths": [str(corpus)], "workers": 1, "shards": 2, **with_}
    path = tmp / f"{root}.yaml"
    path.write_text(f"experiment: seeds-test\nrun_root: {tmp / root}\nwandb: {{mode: offline, project: sca-test}}\n"
                    f"stages:\n  seeds:\n    uses: seeds\n    with: {json.dumps(cfg)}\n")
    return path


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("seeds")
    corpus = write_corpus(tmp)
    art = Runner(load_recipe(write_recipe(tmp, corpus)), progress=False, log=lambda _: None).run()["seeds"]
    return tmp, corpus, art


def test_each_planted_function_is_stopped_by_its_filter(finished):
    _, _, art = finished
    counts = art.manifest["counts"]
    assert counts["top_level_functions"] == 14 and counts["docstring"] == 12
    assert counts["dropped_docstring"] == 2
    for step, n in EXPECTED_DROPS.items():
        assert counts.get(f"dropped_{step}", 0) == n, step
    assert counts["records"] == 2
    dropped = {(d["step"], d["name"]): d["detail"] for d in art.records("dropped")}
    assert ("bad_imports", "in_cwd") in dropped and ("bad_words", "halve") in dropped
    assert ("return_value", "show") in dropped and ("argument", "origin") in dropped
    assert ("max_lines", "accumulate") in dropped and ("undefined_names", "scaled") in dropped
    assert dropped[("decontaminate", "longest")] == "humaneval:HumanEval/12:canonical_solution"
    assert dropped[("near_dedup", "distance_between")].startswith("near-duplicate of geom/shapes.py")
    assert ("exact_dedup", "centroid") in dropped
    assert "pyright errors" in dropped[("typecheck", "label")]


def test_seed_records_have_the_schema_and_inferred_imports(finished):
    _, corpus, art = finished
    seeds = {r["name"]: r for r in art.records("records")}
    assert set(seeds) == {"distance", "centroid"}
    d = seeds["distance"]
    assert set(d) >= {"seed_id", "content", "source", "license", "path", "name", "line", "imports"}
    assert d["source"] == str(corpus) and d["path"] == "geom/shapes.py" and d["license"] is None
    assert d["imports"] == ["import math"] and d["content"].startswith("import math\n\n\ndef distance(p, q):")
    assert seeds["centroid"]["content"].startswith("from typing import Sequence\n")
    assert len({r["seed_id"] for r in seeds.values()}) == 2
    verdicts = {v["seed_id"]: v["errors"] for v in art.records("typecheck")}
    assert all(verdicts[r["seed_id"]] == 0 for r in seeds.values()) and len(verdicts) == 3
    steps = json.loads(art.file("filters.json").read_text())["steps"]
    assert [s["step"] for s in steps][:3] == ["top_level_functions", "docstring", "exact_dedup"]
    assert art.file("filters.png").stat().st_size > 1000


def test_counts_reach_the_wandb_offline_log(finished):
    from harness.wandb_log import summarize

    tmp, _, art = finished
    (log,) = list((tmp / "runs").rglob("*.wandb"))
    run = summarize(log)
    history = run["history"]
    assert any(row.get("kept/typecheck") == 2 and row.get("dropped/typecheck") == 1 for row in history)
    assert any(row.get("dropped/decontaminate") == 1 for row in history)
    assert any(row.get("seeds") == 2 for row in history)
    assert run["config"]["dedup_threshold"] == 0.5
    (logged,) = [a for a in run["logged_artifacts"] if a["name"] == "seeds"]
    assert "records.jsonl" in logged["files"] and "dropped.jsonl" in logged["files"]


def test_seed_count_and_sample_size(finished, tmp_path):
    _, corpus, _ = finished
    # Without Pyright four functions reach the sample (scaled and label are no longer screened out).
    art = Runner(load_recipe(write_recipe(tmp_path, corpus, sample_size=3, num_seeds=1, typecheck=False)),
                 progress=False, log=lambda _: None).run()["seeds"]
    counts = art.manifest["counts"]
    assert (counts["near_dedup"], counts["sample"], counts["dropped_sample"]) == (4, 3, 1)
    assert counts["records"] == 1 and counts["dropped_num_seeds"] == 2
    assert next(art.records("records"))["name"] in {"distance", "centroid", "scaled", "label"}


def test_functions_source_from_local_jsonl_and_parquet(tmp_path):
    import datasets

    rows = [{"content": 'def twice(x):\n    """Two times x."""\n    return 2 * x\n', "id": "a", "license": "MIT"},
            {"content": "def bare(x):\n    return x\n", "id": "b", "license": "MIT"},
            {"content": 'import json\n\n\ndef dump(o):\n    """JSON text of o."""\n    return json.dumps(o)\n',
             "id": "c", "license": "Apache-2.0"}]
    datasets.Dataset.from_list(rows).to_json(str(tmp_path / "seeds.jsonl"))
    datasets.Dataset.from_list(rows).to_parquet(str(tmp_path / "seeds.parquet"))
    for name in ("seeds.jsonl", "seeds.parquet"):
        recipe = write_recipe(tmp_path, tmp_path, root=name.replace(".", "_"), source="functions",
                              dataset=str(tmp_path / name), license_column="license", typecheck=False)
        art = Runner(load_recipe(recipe), progress=False, log=lambda _: None).run()["seeds"]
        seeds = sorted(art.records("records"), key=lambda r: r["origin_id"])
        assert [(s["origin_id"], s["license"]) for s in seeds] == [("a", "MIT"), ("c", "Apache-2.0")]
        assert seeds[1]["content"] == rows[2]["content"] and seeds[1]["imports"] == []
        assert art.manifest["counts"]["dropped_docstring"] == 1


def test_bad_config_is_one_line(tmp_path):
    from harness.errors import UserError

    with pytest.raises(UserError, match="seeds.paths: /no/such/folder: no such file or folder"):
        Runner(load_recipe(write_recipe(tmp_path, Path("/no/such/folder"))), progress=False, log=lambda _: None).run()
    with pytest.raises(UserError, match="unknown key.*did you mean 'sample_size'"):
        load_recipe(write_recipe(tmp_path, tmp_path, root="typo", sample_sise=3))


KILLER = """#!/bin/sh
# Pyright, except that its second start kills the stage's process with SIGKILL.
n=$(cat "$SEEDS_PYRIGHT_COUNT" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$SEEDS_PYRIGHT_COUNT"
if [ "$n" = 2 ]; then kill -9 $PPID; sleep 5; fi
exec {pyright} "$@"
"""


def test_kill_9_during_pyright_then_rerun_gives_identical_seeds(finished, tmp_path):
    from generation.seeds.typecheck import pyright_command

    _, corpus, _ = finished
    killer = tmp_path / "pyright-killer.sh"
    killer.write_text(KILLER.format(pyright=pyright_command()[0]))
    killer.chmod(0o755)
    # Three seeds reach Pyright: two in the first shard, one in the second, one Pyright start each.
    opts = dict(typecheck_batch=2, shards=2, typecheck_command=[str(killer)])
    env = {**os.environ, "PYTHONPATH": str(REPO), "SEEDS_PYRIGHT_COUNT": str(tmp_path / "count")}
    cut = write_recipe(tmp_path, corpus, root="cut", **opts)
    first = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(cut)], env=env, capture_output=True,
                           text=True, timeout=600)
    assert first.returncode == -9, first.stderr[-2000:]
    shards = list((tmp_path / "cut" / "artifacts" / ".partial").glob("seeds-*/.shards/typecheck/*.jsonl"))
    assert len(shards) == 1  # the first Pyright shard finished before the kill
    again = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(cut)], env=env, capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    (resumed,) = (tmp_path / "cut" / "artifacts").glob("seeds-*")
    assert json.loads((resumed / "manifest.json").read_text())["resumed_shards"] >= 1
    (tmp_path / "count").write_text("100")  # no kill in the uninterrupted run
    os.environ["SEEDS_PYRIGHT_COUNT"] = str(tmp_path / "count")
    try:
        uncut = Runner(load_recipe(write_recipe(tmp_path, corpus, root="clean", **opts)), progress=False,
                       log=lambda _: None).run()["seeds"].path
    finally:
        del os.environ["SEEDS_PYRIGHT_COUNT"]
    for name in ("records.jsonl", "typecheck.jsonl", "dropped.jsonl"):
        assert (resumed / name).read_bytes() == (uncut / name).read_bytes(), name


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tests.support.tiny_model import get_tiny_model

    return get_tiny_model(tmp_path_factory)


def test_judge_runs_through_the_backend_and_decides_by_its_answer(finished, tiny_model, tmp_path):
    """The real judge path on the tiny random model: its answers are noise, the bookkeeping is not."""
    _, corpus, _ = finished
    recipe = write_recipe(tmp_path, corpus, typecheck=False, judge=True, judge_model=str(tiny_model),
                          judge_backend="hf", judge_backend_options={"batch_size": 4})
    art = Runner(load_recipe(recipe), progress=False, log=lambda _: None).run()["seeds"]
    answers = list(art.records("judge"))
    assert len(answers) == art.manifest["counts"]["sample"] == 4
    from generation.seeds.judge import verdict

    assert all(a["keep"] == verdict(a["answer"]) for a in answers)
    kept = {a["seed_id"] for a in answers if a["keep"]}
    assert {r["seed_id"] for r in art.records("records")} == kept
    assert art.manifest["counts"]["judge"] == len(kept)
    assert (art.path / "judge-cache.sqlite").is_file()


def test_run_seeds_is_the_one_stage_entry_point(finished, tmp_path):
    from generation.seeds import run_seeds

    _, corpus, _ = finished
    lines: list[str] = []
    art = run_seeds(tmp_path / "out", [f"paths=[{corpus}]", "typecheck=false", "workers=1", "num_seeds=2"],
                    progress=False, log=lines.append)
    assert art.manifest["counts"]["records"] == 2 and art.path.parent == tmp_path / "out" / "artifacts"
    assert any(line.startswith("num_seeds") for line in "\n".join(lines).splitlines())
    again = run_seeds(tmp_path / "out", [f"paths=[{corpus}]", "typecheck=false", "workers=1", "num_seeds=2"],
                      progress=False, log=lines.append)
    assert again.path == art.path and any("reused" in line for line in lines)
