"""ClassEval for `sca generate --benchmark classeval` (and the `generate` stage): holistic generation of each
class from its skeleton, and the official extraction of the class from each completion."""

from __future__ import annotations

from generation.codegen import Benchmark


class ClassEvalBenchmark(Benchmark):
    name = "classeval"
    # The official inference: greedy by default; 2048 tokens (it counts the prompt too, we count new tokens)
    defaults = {"n": 1, "temperature": 0.0, "top_p": 0.95, "max_new_tokens": 2048}
    selection = ()

    def load(self, cfg):
        from benchmarks.classeval import dataset
        from harness.artifacts import file_digest

        data = dataset.load()
        return data.tasks, data.label, {"version": dataset.VERSION, "dataset_hash": data.hash,
                                        "dataset_file_sha256": file_digest(data.path)}

    def prompt(self, task, style, tokenizer):
        from benchmarks.classeval.prompts import build_prompt

        return build_prompt(task, style, tokenizer)

    def rows(self, prompt, task, text):
        from benchmarks.classeval.prompts import solution

        return ({"task_id": task.task_id, "output": prompt.prefix + text},
                {"task_id": task.task_id, "solution": solution(task, prompt.prefix + text)})


BENCHMARK = ClassEvalBenchmark()
