"""End to end with the real CPU model: SmolLM2-135M-Instruct from its GGUF, SFT with the paper's template on a
pipeline-style dataset, the loss falls, the model stops on its EOS, and its HumanEval+ solutions are graded."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.config import load_recipe
from harness.runner import Runner

RECIPE = """
experiment: smollm2-sft
run_root: {root}
wandb: {{mode: offline}}
stages:
  model: {{uses: gguf_model}}
  data: {{uses: "tests.training.stages:records_stage", with: {{n: 8}}}}
  sft:
    uses: sft
    inputs: [model, data]
    with: {{effective_batch_size: 4, per_device_batch_size: 4, epochs: 3}}
  samples:
    uses: generate
    inputs: [sft]
    with: {{benchmark: humaneval, backend: hf, tasks: [HumanEval/0, HumanEval/2], max_new_tokens: 192}}
  scores:
    uses: evaluate
    inputs: [samples]
    with: {{dataset: humaneval}}
"""


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("SCA_DATA_DIR"), reason="no benchmark data: set SCA_DATA_DIR")
def test_smollm2_trains_stops_and_is_graded(tmp_path, tmp_path_factory, monkeypatch):
    pytest.importorskip("gguf")
    # Ground truth is the slow part of grading: share it with the grader tests of this session.
    shared = tmp_path_factory.getbasetemp().parent / "evalplus-shared-cache" / "evalplus" / "groundtruth"
    shared.mkdir(parents=True, exist_ok=True)
    cache = tmp_path / "cache"
    (cache / "evalplus").mkdir(parents=True)
    (cache / "evalplus" / "groundtruth").symlink_to(shared)
    monkeypatch.setenv("SCA_CACHE_DIR", str(cache))
    path = tmp_path / "recipe.yaml"
    path.write_text(RECIPE.format(root=tmp_path / "runs"))
    done = Runner(load_recipe(path), progress=False, log=lambda line: None).run()

    summary = json.loads(done["sft"].file("train_summary.json").read_text())
    assert summary["steps"] == 6 and summary["dropped_over_length"] == 0
    first, *_, last = summary["epoch_losses"]
    assert last < first
    # The default stop check is an error: reaching here means the real model ended its answers with EOS.
    assert summary["eos_check"]["mode"] == "error" and summary["eos_check"]["stopped"] == 2
    info = json.loads(done["samples"].file("generation.json").read_text())
    assert info["prompt_style"] == "instruct" and info["samples"] == 2
    scores = json.loads(done["scores"].file("summary.json").read_text())
    assert scores["n_tasks"] == 2 and 0.0 <= scores["pass@1"]["plus"] <= scores["pass@1"]["base"] <= 1.0
    print(json.dumps({"tokens_per_second": summary["tokens_per_second"], "epoch_losses": summary["epoch_losses"],
                      "pass@1": scores["pass@1"], "hit_max_new_tokens": info["hit_max_new_tokens"]}))
