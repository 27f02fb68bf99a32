"""The project-written problems (problems.yaml) in the code_generation_lite schema, and their solutions.

Each solution file starts with the verdicts it must get:
    # expect: VERDICT [upstream=VERDICT] [test=I] [upstream_test=I]
(upstream defaults to VERDICT; test / upstream_test name the first non-passing test under our /
upstream's comparison rule, where it matters).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SOLUTIONS = HERE / "solutions"
_EXPECT = re.compile(r"# expect: (\w+)((?: \w+=\w+)*)\s*$")


def schema_rows() -> list[dict]:
    from benchmarks.livecodebench.dataset import encode_private

    rows = []
    for p in yaml.safe_load((HERE / "problems.yaml").read_text()):
        kind = p["testtype"]
        public = [{"input": i, "output": o, "testtype": kind} for i, o in p["tests"]["public"]]
        private = [{"input": i, "output": o, "testtype": kind} for i, o in p["tests"]["private"]]
        rows.append({
            "question_title": p["question_title"], "question_content": p["question_content"],
            "platform": p["platform"], "question_id": p["question_id"], "contest_id": p["contest_id"],
            "contest_date": p["contest_date"], "starter_code": p.get("starter_code", ""),
            "difficulty": p["difficulty"], "public_test_cases": json.dumps(public),
            "private_test_cases": encode_private(private) if p["private"] == "pickle" else json.dumps(private),
            "metadata": json.dumps(p.get("metadata", {}))})
    return rows


def write_problems(path: Path, rows: list[dict] | None = None) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in (rows if rows is not None else schema_rows())))
    return path


@dataclass(frozen=True)
class Case:
    question_id: str
    name: str
    code: str
    verdict: str
    upstream: str
    test: int | None
    upstream_test: int | None

    @property
    def id(self) -> str:
        return f"{self.question_id}/{self.name}"


def cases() -> list[Case]:
    out = []
    for path in sorted(SOLUTIONS.glob("*/*.py")):
        code = path.read_text()
        m = _EXPECT.match(code.splitlines()[0])
        assert m, f"{path}: first line must be '# expect: VERDICT ...'"
        extra = dict(kv.split("=") for kv in m[2].split())
        out.append(Case(path.parent.name, path.stem, code, m[1], extra.get("upstream", m[1]),
                        int(extra["test"]) if "test" in extra else None,
                        int(extra["upstream_test"]) if "upstream_test" in extra else None))
    return out
