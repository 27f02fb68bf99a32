"""Expected outputs and reference timings from the canonical solutions, cached per dataset hash and Python.

Canonical solutions are trusted dataset code, so like evalplus they run in-process (here in a small
process pool, one task per job); untrusted samples never come near this module.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tqdm import tqdm

from benchmarks.evalplus.dataset import Dataset


def cache_dir() -> Path:
    from harness import data

    return data.cache_dir() / "evalplus"


# Bump when the way reference times are measured changes, so stale timings are not reused.
TIMING = "fair2"
# Inputs whose limit is near or above evalplus's 1 s floor (4 x 0.2 s) are timed once more, alone, and
# keep the faster run: load only ever slows a run down (a CI run under load measured Mbpp/583's slowest
# input at 0.44 s; quiet runs give 0.36-0.41 s). One repeat adds ~40% to MBPP+'s cold ground truth.
TIMING_REPEATS = 2
TIMING_RELEVANT_S = 0.2


def cache_path(ds: Dataset) -> Path:
    py = f"py{sys.version_info.major}.{sys.version_info.minor}"
    return cache_dir() / "groundtruth" / f"{ds.hash}-{py}-{TIMING}.pkl"


def _run_delay() -> float:
    """Seconds this process has been runnable but waiting for a CPU (0.0 where the kernel hides it)."""
    try:
        with open("/proc/self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


class _LoadFairClock:
    """Stands in for the `time` module inside evalplus's trusted_exec: wall time minus CPU waits.

    evalplus times canonical solutions by wall clock, so ground truth computed on a busy host gets
    inflated reference times and hence lenient limits (Mbpp/583 passed a too-slow solution that way).
    Discounting run-queue waits gives the timings a quiet host would measure.
    """

    @staticmethod
    def time() -> float:
        return time.perf_counter() - _run_delay()


def _one(args: tuple) -> tuple[str, dict]:
    import contextlib
    import io

    import evalplus.gen.util as util
    from evalplus.gen.util import trusted_exec

    util.time = _LoadFairClock  # pool worker process: patching evalplus here touches nothing else
    task_id, problem, output_not_none, suites, code = args
    oracle = {}
    # Some canonical solutions print (EvoEval's); their output is not part of the result.
    with contextlib.redirect_stdout(io.StringIO()):
        for suite in suites:
            inputs = problem[f"{suite}_input"]
            oracle[suite], times = trusted_exec(code, inputs, problem["entry_point"], record_time=True,
                                                output_not_none=output_not_none)
            oracle[f"{suite}_time"] = [_fastest(code, problem["entry_point"], inp, t) if t >= TIMING_RELEVANT_S
                                       else t for inp, t in zip(inputs, times)]
    return task_id, oracle


def _fastest(code: str, entry_point: str, inp: list, measured: float) -> float:
    """The input timed again, alone, from a fresh exec (so no state from other inputs), as trusted_exec does."""
    from copy import deepcopy

    fastest = measured
    for _ in range(TIMING_REPEATS - 1):
        scope: dict = {}
        exec(code, scope)
        args = deepcopy(inp)
        start = _LoadFairClock.time()
        scope[entry_point](*args)
        fastest = min(fastest, _LoadFairClock.time() - start)
    return fastest


def load(ds: Dataset, workers: int | None = None) -> dict[str, dict]:
    """task_id -> {"base", "base_time", "plus", "plus_time"} (one pair per suite of the dataset): evalplus's
    get_groundtruth, with load-proof timings."""
    path = cache_path(ds)
    if path.exists():
        with open(path, "rb") as f:  # written by us below, never downloaded
            return pickle.load(f)
    from filelock import FileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    # Concurrent graders (test workers, parallel recipes) wait for one computation instead of each
    # paying minutes for their own, on CPUs they share.
    with FileLock(str(path) + ".lock"):
        if path.exists():
            with open(path, "rb") as f:
                return pickle.load(f)
        return _compute(ds, path, workers)


def _compute(ds: Dataset, path: Path, workers: int | None) -> dict[str, dict]:
    from evalplus.eval._special_oracle import MBPP_OUTPUT_NOT_NONE_TASKS as not_none

    jobs = [(tid, p, ds.name == "mbpp" and p["entry_point"] in not_none, ds.suites, ds.canonical_code(p))
            for tid, p in ds.problems.items()]
    # Longest inputs first so the pool does not end on one big task.
    jobs.sort(key=lambda j: -len(j[1][f"{ds.suites[-1]}_input"]))
    out: dict[str, dict] = {}
    start = time.perf_counter()
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        bar = tqdm(pool.map(_one, jobs), total=len(jobs), desc=f"ground truth {ds.label}", leave=False)
        for task_id, oracle in bar:
            out[task_id] = oracle
    out = {tid: out[tid] for tid in ds.problems}
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as tmp:
        pickle.dump(out, tmp)
    # The first process to finish publishes; later ones use its file, so every grader (and the payloads
    # named after that file) agrees on one set of timings instead of each overwriting the last.
    try:
        os.link(tmp.name, path)
    except FileExistsError:
        with open(path, "rb") as f:
            out = pickle.load(f)
    except OSError:  # a filesystem without hard links: last writer wins
        os.replace(tmp.name, path)
    if os.path.exists(tmp.name):
        os.unlink(tmp.name)
    print(f"ground truth for {ds.label}: {time.perf_counter() - start:.1f}s -> {path}", file=sys.stderr)
    return out


# What a sandbox program gets for one task: its inputs, expected outputs and reference times, pickled
# once per dataset and cached beside the ground truth, so grading neither unpickles hundreds of MB of
# outputs nor pickles them again. Bump PAYLOAD_FORMAT when that layout changes (check_program.py reads it).
PAYLOAD_FORMAT = "1"
# Expected outputs are shipped unless unpickling them would take longer than recomputing them in the
# sandbox from the canonical solution (Mbpp/255: ~750 MB, 3 s to load, 1.5 s to recompute). The rate
# is for lists of ints, the slowest kind to unpickle measured; strings load ~10x faster.
UNPICKLE_BYTES_PER_S = 200e6
SHIP_ALWAYS_BYTES = 64 << 20


class Payloads:
    """Per-task sandbox payloads of one dataset, with each task's reference times and payload size."""

    def __init__(self, directory: Path, index: dict):
        self.directory = directory
        self.index = index  # task_id -> {"<suite>_time" per suite, "bytes", "rebuilt"}

    def times(self, task_id: str, suite: str) -> list[float]:
        return self.index[task_id][f"{suite}_time"]

    def size(self, task_id: str) -> int:
        return self.index[task_id]["bytes"]

    def rebuilt(self, task_id: str) -> bool:
        """Whether the sandbox recomputes this task's expected outputs instead of receiving them."""
        return self.index[task_id]["rebuilt"]

    def read(self, task_id: str) -> bytes:
        return (self.directory / self.index[task_id]["file"]).read_bytes()


def payloads(ds: Dataset) -> Payloads:
    """The dataset's payloads, built from the ground truth (computed first if need be) on first use."""
    truth = cache_path(ds)
    computed = None if truth.exists() else load(ds)
    # Named after the ground-truth file they came from: recomputed ground truth gets fresh payloads.
    stat = truth.stat()
    prefix = f"{truth.stem}-payloads-v{PAYLOAD_FORMAT}-"
    directory = truth.with_name(f"{prefix}{stat.st_size}-{stat.st_mtime_ns}")
    index_path = directory / "index.pkl"
    if not index_path.exists():
        _build_payloads(ds, computed or load(ds), directory)
        # Payloads of a ground truth since replaced (deleted and recomputed) are never read again.
        for stale in truth.parent.glob(prefix + "*"):
            if stale != directory and not stale.name.startswith(directory.name + ".tmp"):
                shutil.rmtree(stale, ignore_errors=True)
    with open(index_path, "rb") as f:  # written by us, never downloaded
        return Payloads(directory, pickle.load(f))


def _build_payloads(ds: Dataset, oracle: dict, directory: Path) -> None:
    from evalplus.eval._special_oracle import MBPP_OUTPUT_NOT_NONE_TASKS

    staging = Path(tempfile.mkdtemp(dir=directory.parent, prefix=directory.name + ".tmp"))
    index = {}
    for n, (task_id, problem) in enumerate(tqdm(ds.problems.items(), desc=f"task payloads {ds.label}", leave=False)):
        truth = oracle[task_id]
        # EvoEval's sets carry no atol: evoeval grades them with 0 (its comparison has its own float rule).
        task = {"entry_point": problem["entry_point"], "atol": problem.get("atol", 0)}
        for suite in ds.suites:
            task[suite] = {"inputs": problem[f"{suite}_input"], "expected": truth[suite],
                           "ref_time": truth[f"{suite}_time"]}
        recompute_s = sum(sum(truth[f"{suite}_time"]) for suite in ds.suites)
        rebuilt = _pickled_over([truth[s] for s in ds.suites],
                                max(SHIP_ALWAYS_BYTES, recompute_s * UNPICKLE_BYTES_PER_S))
        if rebuilt:
            for suite in ds.suites:
                task[suite]["expected"] = None
            task["canonical"] = ds.canonical_code(problem)
            task["output_not_none"] = ds.name == "mbpp" and problem["entry_point"] in MBPP_OUTPUT_NOT_NONE_TASKS
        blob = pickle.dumps(task, pickle.HIGHEST_PROTOCOL)
        name = f"{n}.pkl"
        (staging / name).write_bytes(blob)
        index[task_id] = {"file": name, "bytes": len(blob), "rebuilt": rebuilt,
                          **{f"{suite}_time": truth[f"{suite}_time"] for suite in ds.suites}}
    with open(staging / "index.pkl", "wb") as f:
        pickle.dump(index, f)
    try:
        os.rename(staging, directory)
    except OSError:  # another process finished first: its payloads are the same
        shutil.rmtree(staging, ignore_errors=True)


def _pickled_over(outputs: list[list], limit: float) -> bool:
    """Whether the outputs pickle to more than `limit` bytes, without pickling hundreds of MB at once."""
    total = 0
    for suite in outputs:
        for out in suite:
            total += len(pickle.dumps(out))
            if total > limit:
                return True
    return False


# Measures what evalplus's main process holds when it forks its workers: its modules, the problems
# (through its own loader) and this ground truth.
_PROBE = """
import os, pickle, sys
from evalplus.evaluate import get_human_eval_plus, get_mbpp_plus
problems = get_human_eval_plus() if sys.argv[1] == "humaneval" else get_mbpp_plus()
with open(sys.argv[2], "rb") as f:
    expected = pickle.load(f)
for line in open("/proc/self/status"):
    if line.startswith("VmSize:"):
        print(int(line.split()[1]) * 1024)
"""
# The same for evoeval 0.1.0's main process: its modules, the problems as its loader holds them (one
# dict per task, from the decompressed jsonl) and the ground truth.
_EVOEVAL_PROBE = """
import gzip, json, pickle, sys
import evoeval.evaluate
with (gzip.open if sys.argv[1].endswith(".gz") else open)(sys.argv[1], "rt") as f:
    problems = {json.loads(line)["task_id"]: json.loads(line) for line in f}
with open(sys.argv[2], "rb") as f:
    expected = pickle.load(f)
for line in open("/proc/self/status"):
    if line.startswith("VmSize:"):
        print(int(line.split()[1]) * 1024)
"""


def evalplus_address_space(ds: Dataset) -> int:
    """Virtual size of evalplus 0.3.1's main process on this dataset (evoeval 0.1.0's, for a dataset
    graded with evoeval's checker), measured once and cached.

    Its checks run in children of that process under a 4 GiB RLIMIT_AS, so this is what a
    solution's memory headroom is measured against (see check_program.py).
    """
    path = cache_path(ds).with_suffix(".vmsize.json")
    if path.exists():
        return json.loads(path.read_text())["vm_size"]
    load(ds)
    env = {k: v for k, v in os.environ.items() if k not in ("HUMANEVAL_OVERRIDE_PATH", "MBPP_OVERRIDE_PATH")}
    if ds.checker == "evoeval":
        argv = [_EVOEVAL_PROBE, str(ds.path), str(cache_path(ds))]
    else:
        env["HUMANEVAL_OVERRIDE_PATH" if ds.name == "humaneval" else "MBPP_OVERRIDE_PATH"] = str(ds.path)
        argv = [_PROBE, ds.name, str(cache_path(ds))]
    out = subprocess.run([sys.executable, "-c", *argv], env=env, check=True,
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    size = int(out.stdout.strip().splitlines()[-1])
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
        json.dump({"vm_size": size}, tmp)
    os.replace(tmp.name, path)
    return size


# Host-speed calibration (an option, never the default). evalplus's limits are relative to the canonical
# solution's time except for two absolute parts, the 1 s floor per input and the 60 s cap per suite. A
# speed profile is the ground truth's per-task canonical time on one host; another host's speed relative
# to it is the median per-task ratio of canonical times, and scaling both absolute parts by it gives a
# slower host the limits the reference host's verdicts were made under.
PROFILE_FORMAT = 1
PROFILE_MIN_TASK_S = 0.02  # shorter tasks time too coarsely to compare hosts by


def speed_profile(ds: Dataset) -> dict:
    """This host's canonical times for `ds` (computing the ground truth if need be), to calibrate against."""
    from harness.provenance import host_info

    truth = load(ds)
    return {"format": PROFILE_FORMAT, "dataset": ds.name, "version": ds.version, "hash": ds.hash,
            "timing": TIMING, "python": f"{sys.version_info.major}.{sys.version_info.minor}", "host": host_info(),
            "task_s": {tid: sum(sum(t[f"{s}_time"]) for s in ds.suites) for tid, t in truth.items()}}


def speed_ratio(profile: dict, ds: Dataset, where: str) -> tuple[float, int]:
    """(this host's time / the profile host's time, tasks compared): the median over comparable tasks."""
    import statistics

    from harness.errors import UserError

    if profile.get("format") != PROFILE_FORMAT or not isinstance(profile.get("task_s"), dict):
        raise UserError(f"{where}: not a speed profile (write one with --write-speed-profile)")
    if profile.get("hash") != ds.hash:
        raise UserError(f"{where}: profile is for {profile.get('dataset')} {profile.get('version')} "
                        f"(hash {profile.get('hash')}), not {ds.label} (hash {ds.hash})")
    if profile.get("timing") != TIMING:
        raise UserError(f"{where}: profile was timed with '{profile.get('timing')}', this grader times with '{TIMING}'")
    here = speed_profile(ds)["task_s"]
    ratios = [here[t] / ref for t, ref in profile["task_s"].items() if ref >= PROFILE_MIN_TASK_S and here.get(t, 0) > 0]
    if len(ratios) < 10:
        raise UserError(f"{where}: only {len(ratios)} tasks take {PROFILE_MIN_TASK_S} s or more; too few to compare hosts")
    return statistics.median(ratios), len(ratios)
