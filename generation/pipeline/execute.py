"""Execution filter: each response's code blocks and test blocks run as one program in the sandbox.

The program is the paper's: every fenced block of the raw response (response, then tests) joined
with blank lines, each block cut before `if __name__ == "__main__":` when it mentions `input`.
The paper passes a response when that program exits 0. We also require that the code ran to its
end and that at least one assert of the test blocks ran:
- after every `assert` statement of the test blocks (found with `ast`, so asserts inside test
  functions count only when the functions are called), a call `__sca_assert__()` is inserted on
  the same line, so line numbers and behaviour are unchanged;
- `__sca_done__()` is appended as the last statement; it writes a random token the response
  cannot know, with the count, to fd 1, so an early `sys.exit(0)`, `exit()`, `os._exit(0)` or a
  `unittest.main()` (which always exits) leaves no token.
Counting assert statements in the AST rather than tracing lines: a tracing hook slows every line
the response runs (and so moves programs across the time limit); the inserted calls cost one
call per assert. Verdict fields: `exit0` is the paper's rule, `passed` ours; `rejected` says why
an exit-0 response failed ours (`no_sentinel`, `no_asserts`).

Throughput: with batch_size > 1 (and the sandbox's pid namespace), a sandbox program runs a batch of
responses, each in its own forked child (exec_program.py); verdicts other than pass/fail (timeout,
memory, output limit, signals, a batch cut short) are run again alone as single programs, so every
resource verdict comes from the plain sandbox and its timeout re-check. Every verdict carries the
hash of the per-response policy (timeout, memory, processes, output).
"""

from __future__ import annotations

import ast
import functools
import marshal
import os
import re
import secrets
import time
from collections import Counter, defaultdict
from pathlib import Path

from pydantic import Field

from generation.pipeline.blocks import find_blocks, tests_start
from generation.pipeline.exec_program import summary
from generation.pipeline.generate import data_input, read_items
from harness.config import Strict
from harness.data import iter_jsonl
from harness.sandbox import Policy, Program, Sandbox
from harness.stages import stage

MAIN_KEYS = ('if __name__ == "__main__":', "if __name__ == '__main__':")
FINAL = ("pass", "fail")
ADDRESS = re.compile(r"0x[0-9a-fA-F]+")  # batch verdicts kept as they are; the rest run again alone
_IMPORT_LINE = "from harness.sandbox.worker import _exit_status, error_type, run_program"


class ExecuteConfig(Strict):
    timeout_s: float = Field(10.0, gt=0)  # the paper's limits: 10 s, 4 GiB
    memory_mb: int = Field(4096, ge=16)
    max_processes: int = Field(64, ge=1)
    batch_size: int = Field(64, ge=1)  # responses per sandbox program; 1 = one program per response
    workers: int | None = Field(None, ge=1)  # default: one per CPU
    shards: int = Field(8, ge=1)


def cut_main(code: str) -> str:
    """The paper's rule: a block that mentions `input` loses its `if __name__ == "__main__":` tail."""
    if "input" not in code:
        return code.strip()
    index = code.find(MAIN_KEYS[0])
    if index < 0:
        index = code.find(MAIN_KEYS[1])
    return code[:index].strip() if index >= 0 else code.strip()


def extract(raw: str, style: str = "completion") -> tuple[str, list[tuple[int, int]]]:
    """(the paper's program, line ranges of its test blocks): blocks after the response/tests split."""
    split = tests_start(raw, style)
    parts, tests, line = [], [], 1
    for block in find_blocks(raw):
        code = cut_main(block.code)
        lines = code.count("\n") + 1
        if split is not None and block.fence >= split:
            tests.append((line, line + lines - 1))
        parts.append(code)
        line += lines + 1  # the blank line between blocks
    return "\n\n".join(parts), tests


def instrument(code: str, tests: list[tuple[int, int]]) -> tuple[str, int]:
    """(code with the assert counter and the end token, asserts found in the test lines).

    Code that does not parse runs unchanged: it fails under both rules.
    """
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return code, 0
    ends: dict[int, list[int]] = defaultdict(list)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) and any(a <= node.lineno <= b for a, b in tests):
            ends[node.end_lineno or node.lineno].append(node.end_col_offset or 0)
    lines = code.split("\n")
    for lineno, cols in ends.items():
        raw = lines[lineno - 1].encode()  # ast offsets count UTF-8 bytes
        for col in sorted(cols, reverse=True):
            raw = raw[:col] + b"; __sca_assert__()" + raw[col:]
        lines[lineno - 1] = raw.decode()
    return "\n".join(lines) + "\n__sca_done__()\n", sum(len(c) for c in ends.values())


@functools.cache
def program_source() -> str:
    """exec_program.py with the sandbox worker's own run_program (and helpers) in place of its import."""
    import inspect

    from harness.sandbox import worker

    text = Path(__file__).with_name("exec_program.py").read_text()
    reused = "".join(inspect.getsource(f) + "\n\n" for f in (worker.run_program, worker._exit_status,
                                                             worker.error_type))
    head, found, tail = text.partition(_IMPORT_LINE)
    if not found:
        raise RuntimeError("exec_program.py no longer imports the worker's run_program")
    return head + "import atexit\nimport gc\n\n\n" + reused + tail


class Executor:
    """Runs prepared programs; one sandbox for the whole stage, opened on first use."""

    def __init__(self, cfg: ExecuteConfig):
        self.cfg = cfg
        self.policy = Policy(timeout_s=cfg.timeout_s, memory_mb=cfg.memory_mb, max_processes=cfg.max_processes)
        self._sandbox: Sandbox | None = None
        self.stats: Counter = Counter()
        self.seconds = 0.0

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            self._sandbox = Sandbox(self.policy, workers=self.cfg.workers)
            self._sandbox.start()
        return self._sandbox

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def run(self, codes: list[str]) -> list[dict]:
        """One result per code, in order: summary() fields plus `executor` (batch or single)."""
        started = time.perf_counter()
        token = secrets.token_hex(16)
        results: dict[int, dict] = {}
        batched = self.cfg.batch_size > 1 and bool(self.sandbox.host.bwrap)
        if batched:
            results = self._run_batches(codes, token)
        todo = [i for i in range(len(codes)) if i not in results]
        self.stats["rerun_alone"] += len(todo) if batched else 0
        programs = (Program(id=str(i), code=program_source(), files={"job.bin": marshal.dumps(
            {"mode": "single", "token": token, "code": codes[i]}, 4)}) for i in todo)
        for verdict in self.sandbox.run(programs):
            result = summary(verdict.status, verdict.exit_code, verdict.error_type, verdict.stdout,
                             verdict.stderr, token)
            results[int(verdict.id)] = {**result, "executor": "single"}
        for result in results.values():  # addresses in messages differ from run to run
            if result["error"]:
                result["error"] = ADDRESS.sub("0x?", result["error"])
        self.seconds += time.perf_counter() - started
        return [results[i] for i in range(len(codes))]

    def _run_batches(self, codes: list[str], token: str) -> dict[int, dict]:
        """Final verdicts of the batched responses. A batch cut short (a response left something behind, or
        took its batch down) leaves its unreported responses to the next round; a program that reported
        nothing hands its first response to the single path, so every round makes progress."""
        job = {"mode": "batch", "token": token, "timeout_s": self.policy.timeout_s,
               "output_limit_bytes": self.policy.output_limit_bytes, "ncpu": os.cpu_count() or 1}
        results: dict[int, dict] = {}
        # The batch writes each response's main.py under the output-size limit it sets for its children;
        # a program that large (never seen in practice) goes to the single path.
        pending = [i for i, code in enumerate(codes) if len(code.encode()) < self.policy.output_limit_bytes // 2]
        prefix = token + "\t"
        while pending:
            size = self.cfg.batch_size
            chunks = {f"batch{k}": pending[s:s + size] for k, s in enumerate(range(0, len(pending), size))}
            programs = (Program(id=name, code=program_source(), timeout_s=len(chunk) * (self.policy.timeout_s + 1) + 30,
                                files={"job.bin": marshal.dumps({**job, "items": [(i, codes[i]) for i in chunk]}, 4)})
                        for name, chunk in chunks.items())
            pending = []
            for verdict in self.sandbox.run(programs):
                self.stats["batch_programs"] += 1
                reported = set()
                for line in verdict.stdout.splitlines():
                    if line.startswith(prefix):
                        row = marshal.loads(bytes.fromhex(line[len(prefix):]))
                        index = row.pop("i")
                        reported.add(index)
                        if row["status"] in FINAL:
                            results[index] = {**row, "executor": "batch"}
                left = [i for i in chunks[verdict.id] if i not in reported]
                if left:
                    self.stats["batches_cut_short"] += 1
                    pending += left if reported else left[1:]
            pending.sort()
        return results


def response_style(record: dict) -> str:
    """How the record's I->R output was prompted (completion unless the responses stage said chat)."""
    return record.get("prompting", {}).get("I->R", "completion")


def verdict_fields(result: dict, policy: str) -> dict:
    exit0 = result["status"] == "pass"
    asserts = result["asserts_run"]
    passed = exit0 and asserts is not None and asserts >= 1
    rejected = None if passed or not exit0 else ("no_sentinel" if asserts is None else "no_asserts")
    return {**result, "exit0": exit0, "passed": passed, "rejected": rejected, "policy": policy}


@stage("execute", ExecuteConfig, version=2)
def execute_stage(cfg: ExecuteConfig, inputs: dict, ctx) -> None:
    """Response records -> the same records with `code` (the paper's program) and `verdict`."""
    art = data_input(inputs, ctx.stage_name, "responses")
    items = read_items(art, None, ("id", "raw_response"))
    executor = Executor(cfg)
    policy = executor.policy.hash()

    def work(chunk):
        prepared = [extract(item["raw_response"], response_style(item)) for item in chunk]
        programs = [instrument(code, tests) for code, tests in prepared]
        results = executor.run([p[0] for p in programs])
        return [{**item, "code": code, "test_asserts": found, "verdict": verdict_fields(result, policy)}
                for item, (code, _), (_, found), result in zip(chunk, prepared, programs, results)]

    try:
        ctx.map_shards("records", items, work, cfg.shards)
    finally:
        executor.close()
    report(ctx, list(iter_jsonl(ctx.out_dir / "records.jsonl")), executor)


def report(ctx, records: list[dict], executor: Executor) -> None:
    verdicts = [r["verdict"] for r in records]
    statuses = Counter(v["status"] for v in verdicts)
    rejected = Counter(v["rejected"] for v in verdicts if v["rejected"])
    passed = sum(v["passed"] for v in verdicts)
    exit0 = sum(v["exit0"] for v in verdicts)
    ctx.counts.update({"passed": passed, "exit0": exit0, "sentinel_rejected": exit0 - passed})
    metrics = {"responses": len(records), "passed": passed, "exit0_passed": exit0,
               "sentinel_rule_rejected": exit0 - passed, "rejected_no_sentinel": rejected["no_sentinel"],
               "rejected_no_asserts": rejected["no_asserts"],
               "pass_rate": passed / len(records) if records else 0.0,
               **{f"status/{k}": v for k, v in sorted(statuses.items())},
               **{f"executor/{k}": v for k, v in sorted(executor.stats.items())}}
    if executor.seconds > 0:
        metrics["execute_seconds"] = round(executor.seconds, 3)
    ctx.log(metrics)
    ctx.log_table("verdicts", [{"id": r["id"], "category": r.get("category"), "difficulty": r.get("difficulty"),
                                **{k: r["verdict"][k] for k in ("status", "passed", "exit0", "rejected",
                                                                "asserts_run", "error")},
                                "code": r["code"][:2000]} for r in records[:32]])
    if records:
        path = plot_pass_rates(records, ctx.out_dir / "pass_rates.png")
        ctx.log_image("pass_rates", path, caption="pass rate (ours) and exit-0 rate (paper) by property")


def plot_pass_rates(records: list[dict], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, key in zip(axes, ("category", "difficulty")):
        groups: dict[str, list[dict]] = defaultdict(list)
        for r in records:
            groups[str(r.get(key))].append(r["verdict"])
        names = sorted(groups)
        xs = range(len(names))
        ours = [sum(v["passed"] for v in groups[n]) / len(groups[n]) for n in names]
        paper = [sum(v["exit0"] for v in groups[n]) / len(groups[n]) for n in names]
        ax.bar([x - 0.2 for x in xs], paper, width=0.4, label="exit 0 (paper)")
        ax.bar([x + 0.2 for x in xs], ours, width=0.4, label="exit 0 + tests ran (ours)")
        ax.set_xticks(list(xs), [f"{n}\n(n={len(groups[n])})" for n in names], fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(f"pass rate by {key}")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
