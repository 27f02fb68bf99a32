"""LiveCodeBench code-generation problems in the code_generation_lite schema, through the data layer.

Release files: test.jsonl ... test6.jsonl of livecodebench/code_generation_lite on the Hub, at one
pinned revision, downloaded with huggingface_hub into the data layer's cache and verified against
release_lock.json (the data layer's sha256 lock format) on every read; read line by line, so only
the selected problems are kept, and their tests are decoded only when grading asks for them.
`release_vN` = files 1..N, `vN` = file N, `vA_vB` = files A..B, `release_latest` = all.
Any local jsonl in the same schema loads too (`--problems FILE`).

private_test_cases is JSON, or base64(zlib(pickle(JSON text))) as upstream stores it; the pickle is
read by an unpickler that resolves no class or function at all and accepts only a str result.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import hashlib
import io
import json
import pickle
import re
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from harness.errors import UserError

REPO_ID = "livecodebench/code_generation_lite"
REVISION = "0fe84c3912ea0c4d4a78037083943e8f0c4dd505"
LOCK_NAME, LOCK_VERSION = "livecodebench", REVISION[:7]
LOCK = Path(__file__).with_name("release_lock.json")
RELEASE_FILES = ("test.jsonl", "test2.jsonl", "test3.jsonl", "test4.jsonl", "test5.jsonl", "test6.jsonl")
DEFAULT_RELEASE = "release_latest"
FIELDS = ("question_title", "question_content", "platform", "question_id", "contest_id", "contest_date",
          "starter_code", "difficulty", "public_test_cases", "private_test_cases", "metadata")
TEST_TYPES = ("stdin", "functional")


@dataclass(frozen=True)
class Test:
    input: str
    output: str
    set: str  # "public" | "private"


@dataclass
class Problem:
    question_id: str
    question_title: str
    question_content: str
    platform: str
    contest_id: str
    contest_date: date
    starter_code: str
    difficulty: str
    metadata: dict
    testtype: str  # "stdin" | "functional"
    func_name: str | None
    tolerance: dict | None  # {"abs": x, "rel": y}: numbers within it are equal; None = exact
    source: str  # FILE:LINE
    public_raw: object = field(default=None, repr=False)
    private_raw: object = field(default=None, repr=False)

    def tests(self) -> list[Test]:
        """Public tests, then private ones, decoded now (not kept: a release's tests run to gigabytes)."""
        if self.public_raw is None:
            raise RuntimeError(f"{self.question_id}: loaded without tests")
        tests = []
        for name, raw in (("public", self.public_raw), ("private", self.private_raw)):
            where = f"{self.source}: {self.question_id}: {name}_test_cases"
            for i, t in enumerate(decode_tests(raw, where)):
                if t["testtype"] != self.testtype:
                    raise UserError(f"{where}: test {i} is {t['testtype']}, the problem's tests are {self.testtype}")
                tests.append(Test(t["input"], t["output"], name))
        return tests

    def tests_sha256(self) -> str:
        digest = hashlib.sha256()
        for raw in (self.public_raw, self.private_raw, self.testtype, self.func_name, self.tolerance):
            digest.update(json.dumps(raw, sort_keys=True).encode() if not isinstance(raw, str) else raw.encode())
            digest.update(b"\0")
        return digest.hexdigest()


@dataclass
class ProblemSet:
    problems: dict[str, Problem]  # the selection, in file order
    label: str  # "release_v6", "v2_v5", or the problems file
    files: list[dict]  # {"file", "sha256"} read, in order
    window: dict  # {"start_date", "end_date", "after_release"} as given (ISO dates)
    known: set[str]  # every question_id in the files, selected or not

    @property
    def hash(self) -> str:
        blob = json.dumps({"files": self.files, "ids": sorted(self.problems)}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------- releases


def release_files(release: str) -> list[str]:
    """The release files a version tag names."""
    n = len(RELEASE_FILES)
    tags: dict[str, list[str]] = {"release_latest": list(RELEASE_FILES)}
    tags.update({f"release_v{k}": list(RELEASE_FILES[:k]) for k in range(1, n + 1)})
    tags.update({f"v{k}": [RELEASE_FILES[k - 1]] for k in range(1, n + 1)})
    if release in tags:
        return tags[release]
    m = re.fullmatch(r"v(\d+)_v(\d+)", release)
    if m and 1 <= int(m[1]) <= int(m[2]) <= n:
        return list(RELEASE_FILES[int(m[1]) - 1 : int(m[2])])
    close = difflib.get_close_matches(release, list(tags) + [f"v1_v{n}"], n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise UserError(f"--release: unknown release '{release}'{hint}; use release_v1..release_v{n}, v1..v{n}, "
                    f"vA_vB (files A..B) or release_latest")


def release_path(file: str) -> Path:
    """Verified local path of one release file; downloaded with huggingface_hub into the data cache first."""
    from harness import data

    variant = file.removesuffix(".jsonl")
    item = data.entry(LOCK_NAME, LOCK_VERSION, variant, lock=LOCK)
    if data.locate(item) is None and not data.offline():
        target = data.cache_dir() / "data" / Path(item["path"]).parent
        target.mkdir(parents=True, exist_ok=True)
        try:
            import huggingface_hub

            path = Path(huggingface_hub.hf_hub_download(REPO_ID, file, repo_type="dataset", revision=REVISION,
                                                        local_dir=target))
        except Exception as exc:  # huggingface_hub raises many kinds; the message is what matters
            raise data.DataError(f"{item['path']}: download from the Hub ({REPO_ID}@{REVISION[:7]}) failed: "
                                 f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}; set SCA_DATA_DIR "
                                 f"to a mirror holding {item['path']}, or check your network") from None
        actual = data.file_sha256(path)
        if actual != item["sha256"]:
            path.unlink()
            raise data.DataError(f"{item['path']} from the Hub ({REPO_ID}@{REVISION[:7]}): sha256 mismatch: lock says "
                                 f"{item['sha256']}, file has {actual}")
    return data.fetch(LOCK_NAME, LOCK_VERSION, variant, lock=LOCK)


# ---------------------------------------------------------------------------------------------- decoding


class _StrOnlyUnpickler(pickle.Unpickler):
    """Resolves no global at all, so no constructor or function can run; only plain values come out."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"it names {module}.{name}")

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("it holds a persistent id")


def restricted_loads(blob: bytes, where: str) -> str:
    """A pickled str; anything else (a class, a function call, a list, bytes ...) is refused in one line."""
    try:
        value = _StrOnlyUnpickler(io.BytesIO(blob)).load()
    except Exception as exc:  # UnpicklingError, EOFError, ValueError, ...: all malformed or refused
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"{where}: pickled payload refused: {why} (only a pickled str of JSON is accepted)") from None
    if not isinstance(value, str):
        raise UserError(f"{where}: pickled payload refused: it is a {type(value).__name__}, "
                        "only a pickled str of JSON is accepted")
    return value


def encode_private(tests: list[dict]) -> str:
    """base64(zlib(pickle(JSON text))): upstream's storage of private tests (for writing problem files)."""
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode()


def decode_tests(raw, where: str) -> list[dict]:
    """A tests field (a list, JSON text, or base64(zlib(pickle(JSON text)))) as a checked list of tests."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            try:
                blob = zlib.decompress(base64.b64decode(raw))
            except (binascii.Error, zlib.error, ValueError) as exc:
                raise UserError(f"{where}: neither JSON nor base64(zlib(pickle)) ({exc})") from None
            text = restricted_loads(blob, where)
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as exc:
                raise UserError(f"{where}: the unpickled text is not JSON ({exc.msg})") from None
    if not isinstance(raw, list):
        raise UserError(f"{where}: expected a list of tests, got {type(raw).__name__}")
    for i, t in enumerate(raw):
        if not isinstance(t, dict) or not isinstance(t.get("input"), str) or not isinstance(t.get("output"), str):
            raise UserError(f"{where}: test {i}: expected {{input: str, output: str, testtype}}")
        if t.get("testtype") not in TEST_TYPES:
            raise UserError(f"{where}: test {i}: testtype must be stdin or functional, got {t.get('testtype')!r}")
    return raw


# ---------------------------------------------------------------------------------------------- tolerance

_POWER = r"10\s*\^\s*\{?\s*\(?\s*[-−–]\s*(\d+)\s*\)?\s*\}?"
_SCI = r"1\s*[eE]\s*[-−–]\s*(\d+)"
_ERROR_BOUND = re.compile(r"(absolute|relative)(?:[^.]|\.\d){0,120}?error(?:[^.]|\.\d){0,160}?(?:" + _POWER
                          + "|" + _SCI + ")", re.I | re.S)
# LeetCode's "Answers within 10-5 of the actual answer will be accepted" (its superscript lost).
_WITHIN = re.compile(r"within\s+\$?\s*(?:" + _POWER + r"|10\s*[-−–]\s*(\d+)|" + _SCI + r")\s*\$?\s+of\s+the",
                     re.I)


def tolerance_from_statement(text: str) -> dict | None:
    """The error a statement allows ("absolute or relative error ... at most 10^{-6}"), or None."""
    m = _ERROR_BOUND.search(text)
    if m:
        bound = 10.0 ** -int(next(g for g in m.groups()[1:] if g))
        words = m.group(0).lower()
        return {"abs": bound if "absolute" in words else 0.0, "rel": bound if "relative" in words else 0.0}
    m = _WITHIN.search(text)
    if m:
        return {"abs": 10.0 ** -int(next(g for g in m.groups() if g)), "rel": 0.0}
    return None


def _tolerance(metadata: dict, statement: str, where: str) -> dict | None:
    if "tolerance" not in metadata:
        return tolerance_from_statement(statement)
    value = metadata["tolerance"]  # a project extension for problem files: it overrides the statement
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return {"abs": float(value), "rel": float(value)}
    if isinstance(value, dict) and set(value) <= {"abs", "rel"} and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in value.values()):
        return {"abs": float(value.get("abs", 0.0)), "rel": float(value.get("rel", 0.0))}
    raise UserError(f"{where}: metadata.tolerance must be a number >= 0, {{abs, rel}} or null, got {value!r}")


# ---------------------------------------------------------------------------------------------- rows


def _date(value, where: str) -> date:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        except ValueError:
            pass
    raise UserError(f"{where}: contest_date must be an ISO date like 2024-08-03T00:00:00, got {value!r}")


def _testtype(raw, where: str) -> str | None:
    """The test type from the first public test, without decoding the private ones."""
    tests = decode_tests(raw, f"{where}: public_test_cases")
    return tests[0]["testtype"] if tests else None


def parse_row(row, where: str, with_tests: bool) -> Problem:
    if not isinstance(row, dict):
        raise UserError(f"{where}: expected a JSON object, got {type(row).__name__}")
    missing = [k for k in FIELDS if k not in row]
    if missing:
        raise UserError(f"{where}: missing field {missing[0]!r} (the code_generation_lite schema has "
                        f"{', '.join(FIELDS)})")
    for key in ("question_id", "question_content", "platform", "difficulty"):
        if not isinstance(row[key], str) or not row[key]:
            raise UserError(f"{where}: {key} must be a non-empty string")
    meta = row["metadata"]
    if isinstance(meta, str):
        try:
            meta = json.loads(meta) if meta.strip() else {}
        except json.JSONDecodeError as exc:
            raise UserError(f"{where}: metadata is not JSON ({exc.msg})") from None
    if not isinstance(meta, dict):
        raise UserError(f"{where}: metadata must be a JSON object")
    qid = row["question_id"]
    here = f"{where}: {qid}"
    testtype = _testtype(row["public_test_cases"], here)
    func_name = meta.get("func_name")
    if testtype is None:  # no public test: the private ones decide
        private = decode_tests(row["private_test_cases"], f"{here}: private_test_cases")
        testtype = private[0]["testtype"] if private else None
    if testtype is None:
        raise UserError(f"{here}: the problem has no tests")
    if testtype == "functional" and not (isinstance(func_name, str) and func_name.isidentifier()):
        raise UserError(f"{here}: functional tests need metadata.func_name (the Solution method to call)")
    return Problem(
        question_id=qid, question_title=str(row["question_title"] or ""), question_content=row["question_content"],
        platform=row["platform"].lower(), contest_id=str(row["contest_id"] or ""),
        contest_date=_date(row["contest_date"], here), starter_code=str(row["starter_code"] or ""),
        difficulty=row["difficulty"].lower(), metadata=meta, testtype=testtype,
        func_name=func_name if testtype == "functional" else None,
        tolerance=_tolerance(meta, row["question_content"], here), source=where,
        public_raw=row["public_test_cases"] if with_tests else None,
        private_raw=row["private_test_cases"] if with_tests else None)


# ---------------------------------------------------------------------------------------------- selection


def window(start_date: date | None = None, end_date: date | None = None,
           after_release: str | None = None) -> tuple[date | None, date | None]:
    """The inclusive contest_date window; --after-release MODEL starts the day after its release."""
    if after_release:
        from generation import models

        if start_date:
            raise UserError("--after-release and --start-date both set the window's start: give one")
        start_date = models.get(after_release).release_date + timedelta(days=1)
    if start_date and end_date and start_date > end_date:
        raise UserError(f"--start-date {start_date} is after --end-date {end_date}")
    return start_date, end_date


def load(release: str | None = None, problems_file: Path | str | None = None, *, start_date: date | None = None,
         end_date: date | None = None, after_release: str | None = None, with_tests: bool = True,
         tests_for: set[str] | None = None) -> ProblemSet:
    """Problems of a release (or a local file) inside the date window; with_tests keeps their tests
    (undecoded until graded), of the `tests_for` problems only when given."""
    from harness import data
    from harness.artifacts import file_digest

    if release and problems_file:
        raise UserError("--release and --problems both name the problems: give one")
    lo, hi = window(start_date, end_date, after_release)
    if problems_file:
        path = Path(problems_file)
        if not path.is_file():
            raise UserError(f"--problems {path}: no such file")
        paths, label = [path], str(path)
        files = [{"file": path.name, "sha256": file_digest(path)}]
    else:
        label = release or DEFAULT_RELEASE
        names = release_files(label)
        paths = [release_path(name) for name in names]
        lock = data.load_lock(LOCK)["datasets"][LOCK_NAME][LOCK_VERSION]
        files = [{"file": name, "sha256": lock[name.removesuffix(".jsonl")]["sha256"]} for name in names]
    problems: dict[str, Problem] = {}
    known: set[str] = set()
    for path in paths:
        for where, row, error in data.jsonl_lines(path):
            if error:
                raise UserError(f"{where}: not a JSON line ({error})")
            qid = row.get("question_id") if isinstance(row, dict) else None
            if qid in known:
                raise UserError(f"{where}: question_id {qid!r} appears twice")
            problem = parse_row(row, where, with_tests and (tests_for is None or qid in tests_for))
            known.add(problem.question_id)
            if (lo and problem.contest_date < lo) or (hi and problem.contest_date > hi):
                continue
            problems[problem.question_id] = problem
    win = {"start_date": lo.isoformat() if lo else None, "end_date": hi.isoformat() if hi else None,
           "after_release": after_release}
    return ProblemSet(problems, label, files, win, known)
