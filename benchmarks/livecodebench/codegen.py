"""LiveCodeBench for `sca generate --benchmark livecodebench` (and the `generate` stage): problems of a
release or a problems file inside the date window, LiveCodeBench's prompts, code from the completion."""

from __future__ import annotations

from generation.codegen import Benchmark


class LiveCodeBench(Benchmark):
    name = "livecodebench"
    id_field = "question_id"
    defaults = {"n": 10, "temperature": 0.2, "top_p": 0.95, "max_new_tokens": 2000}  # lcb_runner's
    selection = ("problems", "start_date", "end_date", "after_release")

    def load(self, cfg):
        from benchmarks.livecodebench import dataset

        ps = dataset.load(cfg.version, cfg.problems, start_date=cfg.start_date, end_date=cfg.end_date,
                          after_release=cfg.after_release, with_tests=False)
        return ps.problems, ps.label, {"version": ps.label, "dataset_hash": ps.hash, "files": ps.files,
                                       "window": ps.window}

    def prompt(self, task, style, tokenizer):
        from benchmarks.livecodebench.prompts import build_prompt

        return build_prompt(task, style, tokenizer)

    def rows(self, prompt, task, text):
        from benchmarks.livecodebench.prompts import extract_code

        return ({"question_id": prompt.task_id, "output": text},
                {"question_id": prompt.task_id, "code": extract_code(text, prompt.style)})


BENCHMARK = LiveCodeBench()
