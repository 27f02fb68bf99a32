"""Selection and cleaning (the paper's sanitize and dedup), each rule counted, then the SFT records.

In order, as the official scripts run them (sanitize_data.py, decontamination, minhash_dedup.py):
1. format: the raw response must split once on `</response>\\n\\n<tests>`; no placeholder
   (todo, fixme, "your code here", NotImplemented, ...) anywhere in it; a python block on both sides;
   the tests must say `assert` and hold more than definitions and imports.
2. instructions over 200 words are dropped.
3. selection: `passing` keeps responses whose tests passed (the default), `failing` only failed
   ones, `random` any (the Table-9 ablation); then a seeded shuffle (numpy's PCG64 permutation, what
   `datasets.Dataset.shuffle(seed=6666)` does), so the first kept response of an instruction is a
   random one.
4. exact dedup on the whitespace-free instruction, then on the whitespace-free response
   (generation/dedup.exact_dedup; the official loop shares one seen-set for both keys).
5. dedup on the sets of function and of class names defined in the response's first code block
   (names lower-cased without underscores, as the official script); a first block that does not parse
   drops the record.
6. the code representation (top-level functions and classes of all response blocks, docstrings
   removed) is computed; a response whose code does not parse is dropped.
7. optional: "Your code should pass the following assertion(s)" with up to 5 test lines appended to a
   share of the instructions (0.5 in the paper's main run), per record with random.seed(position).
8. decontamination: instruction, response and tests against every benchmark the harness evaluates
   (benchmarks/contamination.py: exact substrings of prompts, docstrings and solutions).
9. MinHash near-dedup at Jaccard 0.7 on the instruction, then the response, then the code
   representation (records with an empty one skip that pass).
The trained-on response is the response without its tests. Every record dropped is listed in
filtered.jsonl with the step that dropped it.
"""

from __future__ import annotations

import ast
import random
from collections import Counter
from typing import Literal

from pydantic import Field

from generation.dedup import exact_dedup, minhash_dedup
from generation.pipeline.blocks import RESPONSE_TEST_SPLIT, find_blocks, python_blocks, split_response_tests
from generation.pipeline.execute import response_style
from generation.pipeline.generate import data_input, read_items
from harness.config import Strict
from harness.errors import UserError
from harness.stages import stage

PLACEHOLDERS = ("todo", "fixme", "write your code here", "your code here", "your code goes here",
                "notimplemented")
ASSERTION_NOTE = "Your code should pass the following {term}:\n```python\n{body}\n```"
PROPERTY_KEYS = ("category", "language", "difficulty")


class SelectConfig(Strict):
    selection: Literal["passing", "random", "failing"] = "passing"
    # tests_ran: exit 0 and the tests' asserts ran (ours); exit0: the paper's rule, for comparison.
    pass_rule: Literal["tests_ran", "exit0"] = "tests_ran"
    seed: int = 6666
    max_instruction_words: int = Field(200, ge=1)
    exact_dedup: bool = True
    name_dedup: bool = True
    minhash_threshold: float | None = Field(0.7, gt=0, le=1)  # None: no near-dedup
    minhash_num_perm: int = Field(250, ge=16)
    minhash_ngram: int = Field(5, ge=1)
    # Benchmark names (benchmarks/contamination.py); None = every benchmark the harness evaluates.
    decontaminate: list[str] | None = None
    skip_decontamination: bool = False
    augment_asserts: float = Field(0.0, ge=0, le=1)  # share of instructions given test lines (paper: 0.5)
    push_to_hub: str | None = None  # a Hub dataset repo id to upload the records to (needs a token)
    hub_private: bool = True


def squash(text: str) -> str:
    return "".join(text.split())


def format_problem(raw: str, style: str = "completion") -> str | None:
    """Why a raw I->R output fails the paper's format rules, or None when it passes them.

    In chat style the tests are the last python block (blocks.py); every other rule is the same.
    """
    if style != "chat" and RESPONSE_TEST_SPLIT not in raw:
        return "no_split"
    if any(p in raw.lower() for p in PLACEHOLDERS):
        return "placeholder"
    split = split_response_tests(raw, style)
    if split is None:
        return "no_split"
    response, tests = split
    if not python_blocks(response) or not python_blocks(tests):
        return "no_python_block"
    test_code = "\n".join(python_blocks(tests))
    top_level = [line for line in test_code.splitlines() if line and line[0].isalpha()]
    if "assert" not in tests or all(line.startswith(("def", "class", "import", "from")) for line in top_level):
        return "tests_without_asserts"
    return None


def defined_names(code: str) -> tuple[frozenset, frozenset]:
    """(function names, class names) anywhere in code, lower-cased without underscores."""
    functions, classes = [], []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append(node.name)
        elif isinstance(node, ast.ClassDef):
            classes.append(node.name)

    def compress(names):
        return frozenset(n.replace("_", "").lower() for n in names)

    return compress(functions), compress(classes)


def code_representation(response: str) -> str:
    """Top-level functions and classes of every block, docstrings removed (raises SyntaxError)."""
    tree = ast.parse("\n".join(b.code for b in find_blocks(response)))
    tree.body = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    for node in ast.walk(tree):
        if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body
                and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
                and isinstance(node.body[0].value.value, str)):
            node.body = node.body[1:]
    return ast.unparse(tree)


def assertion_note(instruction: str, tests: str, rng: random.Random, share: float) -> str | None:
    """The paper's augmentation: up to 5 test lines appended to the instruction, or None."""
    body = "\n".join(b.code for b in find_blocks(tests))
    lines = body.splitlines()
    if all(line.startswith("assert") for line in lines):
        picked = rng.sample(lines, k=min(rng.choice([1, 2, 3, 4, 5]), len(lines)))
        assertion, term = "\n".join(picked), "assertion" + ("s" if len(picked) > 1 else "")
    else:
        assertion, term = body, "test case"
    if ("assert" in assertion and len(assertion.splitlines()) <= 5 and rng.random() < share
            and "assert" not in instruction and "for example" not in instruction.lower()
            and "test" not in instruction.lower()):
        return ASSERTION_NOTE.format(term=term, body=assertion.strip())
    return None


class Funnel:
    """Records through the steps, each removal counted and listed."""

    def __init__(self, records: list[dict]):
        self.records = records
        self.steps: list[dict] = [{"step": "input", "removed": 0, "remaining": len(records)}]
        self.filtered: list[dict] = []

    def keep(self, step: str, kept: list[dict], removed: list[dict], reasons: dict[int, str] | None = None):
        for r in removed:
            self.filtered.append({"id": r["id"], "step": step, "reason": (reasons or {}).get(id(r), step)})
        self.records = kept
        self.steps.append({"step": step, "removed": len(removed), "remaining": len(kept)})

    def filter(self, step: str, why) -> None:
        """why(record) -> a reason to drop it, or None to keep it."""
        kept, removed, reasons = [], [], {}
        for r in self.records:
            reason = why(r)
            if reason is None:
                kept.append(r)
            else:
                removed.append(r)
                reasons[id(r)] = reason
        self.keep(step, kept, removed, reasons)


def final_record(r: dict) -> dict:
    user = {"role": "user", "content": r["instruction"]}
    assistant = {"role": "assistant", "content": r["response"]}
    out = {"id": r["id"], "seed_id": r.get("seed_id"), "concepts": r.get("concepts", []),
           "instruction": r["instruction"], "response": r["response"], "tests": r["tests"],
           "verdict": r["verdict"], **{k: r.get(k) for k in PROPERTY_KEYS},
           "prompt": [user], "completion": [assistant], "messages": [user, assistant],
           "instruction_id": r.get("instruction_id"), "seed": r.get("seed"), "prompting": r.get("prompting", {}),
           "augmented": r["augmented"], "code_representation": r["code_representation"]}
    return out


@stage("select", SelectConfig, version=2)
def select_stage(cfg: SelectConfig, inputs: dict, ctx) -> None:
    """Executed responses -> the SFT dataset (records.jsonl), filtered.jsonl and the funnel."""
    import numpy as np

    art = data_input(inputs, ctx.stage_name, "executed responses")
    funnel = Funnel(read_items(art, None, ("id", "instruction", "raw_response", "verdict")))
    funnel.filter("format", lambda r: format_problem(r["raw_response"], response_style(r)))
    for r in funnel.records:  # every record left splits
        r["response"], r["tests"] = split_response_tests(r["raw_response"], response_style(r)) or ("", "")
    funnel.filter("long_instruction",
                  lambda r: "long_instruction" if len(r["instruction"].split()) > cfg.max_instruction_words else None)

    passed_key = "passed" if cfg.pass_rule == "tests_ran" else "exit0"
    wanted = {"passing": True, "failing": False, "random": None}[cfg.selection]
    funnel.filter("selection", lambda r: None if wanted is None or r["verdict"][passed_key] == wanted
                  else ("failed" if wanted else "passed"))
    order = np.random.default_rng(cfg.seed).permutation(len(funnel.records))
    funnel.records = [funnel.records[i] for i in order]

    if cfg.exact_dedup:
        funnel.keep("exact_instruction", *exact_dedup(funnel.records, key=lambda r: squash(r["instruction"])))
        funnel.keep("exact_response", *exact_dedup(funnel.records, key=lambda r: squash(r["response"])))
    if cfg.name_dedup:
        seen: set[frozenset] = set()

        def same_names(r: dict) -> str | None:
            try:
                functions, classes = defined_names(find_blocks(r["response"])[0].code)
            except (SyntaxError, ValueError):
                return "unparsable_first_block"
            if (functions and functions in seen) or (classes and classes in seen):
                return "same_names"
            seen.update((functions, classes))
            return None

        funnel.filter("name_sets", same_names)

    def representation(r: dict) -> str | None:
        try:
            r["code_representation"] = code_representation(r["response"])
        except (SyntaxError, ValueError):
            return "unparsable_code"
        return None

    funnel.filter("code_representation", representation)

    for index, r in enumerate(funnel.records):
        note = (assertion_note(r["instruction"], r["tests"], random.Random(index), cfg.augment_asserts)
                if cfg.augment_asserts > 0 else None)
        r["augmented"] = note is not None
        if note:
            r["instruction"] = f"{r['instruction']}\n\n{note}"

    if not cfg.skip_decontamination:
        from benchmarks.contamination import DEFAULT_BENCHMARKS, Contamination

        checker = Contamination.from_benchmarks(names=cfg.decontaminate if cfg.decontaminate is not None
                                                else DEFAULT_BENCHMARKS)
        funnel.filter("decontamination", lambda r: next(
            (hit for hit in (checker.find(r[k]) for k in ("instruction", "response", "tests")) if hit), None))

    if cfg.minhash_threshold is not None:
        for field in ("instruction", "response", "code_representation"):
            subset = [r for r in funnel.records if r[field]]
            kept, removed = minhash_dedup(subset, text=lambda r, f=field: r[f], threshold=cfg.minhash_threshold,
                                          num_perm=cfg.minhash_num_perm, ngram=cfg.minhash_ngram)
            dropped = {id(r) for r in removed}
            funnel.keep(f"minhash_{field}", [r for r in funnel.records if id(r) not in dropped], removed)

    records = sorted((final_record(r) for r in funnel.records), key=lambda r: r["id"])
    ctx.write_records("records", records)
    ctx.write_records("filtered", funnel.filtered)
    ctx.counts.update({f"after/{s['step']}": s["remaining"] for s in funnel.steps})
    report(ctx, funnel, records)
    if cfg.push_to_hub:
        push(records, cfg.push_to_hub, cfg.hub_private)


def report(ctx, funnel: Funnel, records: list[dict]) -> None:
    reasons = Counter(f["reason"] for f in funnel.filtered)
    ctx.log({**{f"removed/{s['step']}": s["removed"] for s in funnel.steps[1:]},
             **{f"remaining/{s['step']}": s["remaining"] for s in funnel.steps},
             **{f"reason/{k}": v for k, v in sorted(reasons.items())},
             "records": len(records), "augmented": sum(r["augmented"] for r in records)})
    ctx.log_table("funnel", funnel.steps)
    ctx.log_table("records", [{k: r[k] for k in ("id", "category", "difficulty", "instruction", "response",
                                                  "tests")} for r in records[:32]])
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = funnel.steps[1:]
    fig, ax = plt.subplots(figsize=(9, 3.8))
    ax.barh([s["step"] for s in steps][::-1], [s["removed"] for s in steps][::-1])
    for y, s in enumerate(steps[::-1]):
        ax.text(s["removed"], y, f" {s['removed']} (left {s['remaining']})", va="center", fontsize=8)
    ax.set_xlabel(f"records removed (of {funnel.steps[0]['remaining']}; {len(records)} kept)")
    ax.set_title("selection and cleaning: removed by each filter")
    fig.tight_layout()
    path = ctx.out_dir / "funnel.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    ctx.log_image("funnel", path, caption="records removed by each filter, in order")


def push(records: list[dict], repo: str, private: bool) -> None:
    """Upload the SFT records to the Hugging Face Hub as a dataset (never run in tests)."""
    import datasets

    try:
        datasets.Dataset.from_list(records).push_to_hub(repo, private=private)
    except Exception as exc:  # auth, network or naming problems are the user's to fix
        raise UserError(f"push_to_hub: could not upload to '{repo}' ({type(exc).__name__}: {exc})") from None
