"""EvoEval for `sca generate --benchmark evoeval` (and the `generate` stage): the selected sets' tasks,
EvalPlus's prompts, and each completion made into a sample as evalplus codegen does (tool_use keeps its
helpers). Sample rows are {set, task_id, solution}; generation keys are set-qualified ("difficult/EvoEval/0")."""

from __future__ import annotations

from generation.codegen import Benchmark


class EvoEval(Benchmark):
    name = "evoeval"
    # EvalPlus's codegen settings (the paper's: greedy, 768 new tokens)
    defaults = {"n": 1, "temperature": 0.0, "top_p": 0.95, "max_new_tokens": 768}
    selection = ("sets",)

    def load(self, cfg):
        from benchmarks.evoeval import dataset
        from harness.artifacts import file_digest

        chosen = dataset.resolve_sets(cfg.sets, "--sets")
        tasks, hashes, files = {}, {}, {}
        for name in chosen:
            ds = dataset.load(name)
            hashes[name], files[name] = ds.hash, file_digest(ds.path)
            tasks.update({f"{name}/{tid}": {**problem, "_set": name} for tid, problem in ds.problems.items()})
        label = f"EvoEval {dataset.VERSION} ({', '.join(chosen)})"
        return tasks, label, {"version": dataset.VERSION, "sets": list(chosen), "dataset_hash": hashes,
                              "dataset_file_sha256": files}

    def prompt(self, task, style, tokenizer):
        from benchmarks.evoeval.prompts import build_prompt

        return build_prompt(task, f"{task['_set']}/{task['task_id']}", style, tokenizer)

    def rows(self, prompt, task, text):
        from benchmarks.evoeval.prompts import finish

        solution = prompt.prefix + text.replace("\t", "    ")  # as evalplus codegen, before sanitizing
        ids = {"set": task["_set"], "task_id": task["task_id"]}
        return {**ids, "solution": solution}, {**ids, "solution": finish(task, solution)}


BENCHMARK = EvoEval()
