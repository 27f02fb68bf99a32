"""`sca pipeline STAGE`: one stage on a user's files (jsonl, artifact dir, model path), errors in one line."""

from __future__ import annotations

import json

from harness.cli import main
from tests.pipeline.conftest import raw_response, responses_records, write_jsonl

GOOD = raw_response("def inc(x):\n    return x + 1", "assert inc(1) == 2")
EARLY = raw_response("import sys\ndef inc(x):\n    return x + 1", "sys.exit(0)\nassert inc(1) == 5")


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_execute_then_select_on_plain_files(tmp_path, capsys):
    src = write_jsonl(tmp_path / "mine.jsonl", responses_records([GOOD, EARLY]))
    out = tmp_path / "out"
    assert main(["pipeline", "execute", "--input", f"responses={src}", "--out", str(out), "timeout_s=3",
                 "--no-progress"]) == 0
    summary = last_json(capsys.readouterr().out)
    assert summary["counts"] == {"records": 2, "passed": 1, "exit0": 2, "sentinel_rejected": 1}
    records = [json.loads(line) for line in (out / "execute" / "records.jsonl").read_text().splitlines()]
    assert [r["verdict"]["rejected"] for r in records] == [None, "no_sentinel"]
    assert (out / "pipeline-execute.yaml").is_file() and (out / "wandb").is_dir()

    # Options and overrides in any order; an artifact dir as input; a rerun reuses the artifact.
    assert main(["pipeline", "select", "skip_decontamination=true", "--out", str(out), "--input",
                 f"execute={out / 'execute'}", "--no-progress"]) == 0
    summary = last_json(capsys.readouterr().out)
    assert summary["counts"]["records"] == 1
    assert main(["pipeline", "select", "--input", f"execute={out / 'execute'}", "--out", str(out),
                 "skip_decontamination=true", "--no-progress"]) == 0
    assert "reused" in capsys.readouterr().out


def test_a_model_path_input_becomes_the_model(tmp_path, tiny_model, capsys):
    seeds = write_jsonl(tmp_path / "seeds.jsonl", [{"seed_id": f"s{i}", "content": f"def f{i}(x):\n    return x"}
                                                   for i in range(2)])
    out = tmp_path / "out"
    assert main(["pipeline", "concepts", "--input", f"seeds={seeds}", "--input", f"model={tiny_model}",
                 "--out", str(out), "num_fewshots=1", "max_new_tokens=4", "--no-progress"]) == 0
    summary = last_json(capsys.readouterr().out)
    assert summary["counts"]["items"] == 2 and summary["counts"]["samples"] == 2
    manifest = json.loads((out / "concepts" / "manifest.json").read_text())
    assert manifest["config"]["model"] == str(tiny_model)


def test_errors_are_one_line(tmp_path, capsys):
    src = write_jsonl(tmp_path / "mine.jsonl", responses_records([GOOD]))
    out = str(tmp_path / "out")
    assert main(["pipeline", "execute", "--input", f"responses={src}", "--out", out, "timeout=3"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "stages.execute.with.timeout: unknown key (did you mean 'timeout_s'?)" in err
    assert main(["pipeline", "execute", "--input", f"responses={tmp_path / 'nope.jsonl'}", "--out", out]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["pipeline", "execute", "--input", str(src), "--out", out]) == 2
    assert "must look like NAME=PATH" in capsys.readouterr().err
    assert main(["pipeline", "execute", "--input", f"responses={src}"]) == 2
    assert "--out: required" in capsys.readouterr().err
    assert main(["pipeline", "excute", "--input", f"responses={src}", "--out", out]) == 2
    assert "did you mean 'execute'" in capsys.readouterr().err
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": "x"}])
    assert main(["pipeline", "execute", "--input", f"responses={bad}", "--out", out]) == 2
    assert "bad.jsonl:1: record lacks 'raw_response'" in capsys.readouterr().err.replace(str(tmp_path), "")


def test_seeds_runs_through_the_seeds_stage(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "mod.py").write_text('def double_value(x: int) -> int:\n    """Twice x."""\n    return 2 * x\n\n\n'
                                   'def no_doc(x):\n    return x\n')
    out = tmp_path / "out"
    assert main(["pipeline", "seeds", "--out", str(out), f"paths=[{corpus}]", "typecheck=false",
                 "--no-progress"]) == 0
    records = [json.loads(line) for line in (out / "seeds" / "records.jsonl").read_text().splitlines()]
    assert [r["content"].splitlines()[0] for r in records] == ["def double_value(x: int) -> int:"]
