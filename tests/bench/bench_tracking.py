"""Cost of W&B tracking per stage, measured against plain wandb in the same run.

    .venv/bin/python tests/bench/bench_tracking.py [--runs 5] [--artifact-mb 256]

1. Stage-run overhead: Tracker.stage_run (offline; stops the wandb-core service after each run so
   the next one logs under its own run_root) vs bare wandb.init/finish sharing one service.
2. Logging an artifact directory: our in-place hashing (policy=immutable) and file:// references vs
   wandb's default add_dir, which copies every file into the staging dir first.
3. Reading a .wandb transaction log with harness.wandb_log.read_records.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@contextmanager
def _bare_wandb_dirs(root: Path):
    """Baselines get their own dirs too, so nothing lands in $HOME and the HOME check stays meaningful."""
    names = {"WANDB_CACHE_DIR": "cache", "WANDB_CONFIG_DIR": "config", "WANDB_DATA_DIR": "data"}
    for key, sub in names.items():
        os.environ[key] = str(root / sub)
    try:
        yield
    finally:
        for key in names:
            os.environ.pop(key, None)


def bench_overhead(base: Path, runs: int) -> None:
    import wandb

    from harness.tracking import Tracker

    tracker = Tracker(base / "ours", group="bench", mode="offline")
    started = time.perf_counter()
    for i in range(runs):
        with tracker.stage_run(name=f"bench/{i}", job_type="s", config={"i": i}, metrics_path=base / "m.jsonl") as run:
            run.log({"x": i})
    ours = (time.perf_counter() - started) / runs
    # Bare wandb reuses one wandb-core service; ours restarts it per stage so its log stays in run_root.

    root = base / "bare"
    root.mkdir()
    with _bare_wandb_dirs(root):
        started = time.perf_counter()
        for i in range(runs):
            run = wandb.init(project="sca", group="bench", name=f"bench/{i}", config={"i": i}, dir=str(root),
                             settings=wandb.Settings(mode="offline", root_dir=str(root), silent=True))
            run.log({"x": i})
            run.finish()
        wandb.teardown()
    bare = (time.perf_counter() - started) / runs
    print(f"stage run overhead: ours {ours * 1000:.0f} ms/run, bare wandb (shared service) {bare * 1000:.0f} ms/run, "
          f"ratio {ours / bare:.2f}")


def bench_artifact(base: Path, size_mb: int) -> None:
    import wandb

    from harness.tracking import Tracker

    data = base / "artifact"
    data.mkdir()
    chunk = os.urandom(1 << 20)
    files = 16
    for k in range(files):
        with open(data / f"shard-{k:02d}.jsonl", "wb") as fh:
            for _ in range(max(1, size_mb // files)):
                fh.write(chunk)
    total = _dir_bytes(data)
    timings = {}
    for label, reference in (("ours immutable", False), ("ours reference", True)):
        tracker = Tracker(base / label.replace(" ", "-"), group="bench", mode="offline", reference_artifacts=reference)
        with tracker.stage_run(name="bench/a", job_type="a", config={}, metrics_path=base / "m.jsonl") as run:
            started = time.perf_counter()
            run.log_artifact("a", "a", data, fingerprint="f")
            timings[label] = (time.perf_counter() - started, _dir_bytes(tracker.run_root / "wandb-home"))

    root = base / "bare-copy"
    root.mkdir()
    staging = root / "data"
    with _bare_wandb_dirs(root):
        run = wandb.init(project="sca", dir=str(root), settings=wandb.Settings(mode="offline", root_dir=str(root), silent=True))
        started = time.perf_counter()
        artifact = wandb.Artifact("a", type="a")
        artifact.add_dir(str(data))
        run.log_artifact(artifact)
        baseline = (time.perf_counter() - started, _dir_bytes(staging))
        run.finish()
        wandb.teardown()
    print(f"log_artifact of {total / 2**20:.0f} MiB in {files} files:")
    print(f"  baseline wandb default add_dir (copies to staging): {baseline[0]:.2f} s, {baseline[1] / 2**20:.0f} MiB copied")
    for label, (seconds, copied) in timings.items():
        print(f"  {label}: {seconds:.2f} s, {copied / 2**20:.0f} MiB copied, speed-up x{baseline[0] / seconds:.2f}")


def bench_reader(base: Path, steps: int) -> None:
    from harness.tracking import Tracker
    from harness.wandb_log import find_wandb_file, read_records

    tracker = Tracker(base / "reader", group="bench", mode="offline")
    with tracker.stage_run(name="bench/r", job_type="r", config={}, metrics_path=base / "r.jsonl") as run:
        for i in range(steps):
            run.log({"loss": 1.0 / (i + 1), "step": i})
        run_dir = run.run_dir
    size = find_wandb_file(run_dir).stat().st_size
    started = time.perf_counter()
    records = read_records(run_dir)
    seconds = time.perf_counter() - started
    print(f"read_records: {len(records)} records, {size / 2**20:.1f} MiB in {seconds:.2f} s "
          f"({len(records) / seconds:.0f} records/s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--artifact-mb", type=int, default=256)
    parser.add_argument("--log-steps", type=int, default=5000)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-tracking-"))
    home = base / "home"
    home.mkdir()
    os.environ["HOME"] = str(home)  # the bench must not write to the real $HOME either
    os.environ.pop("WANDB_MODE", None)
    try:
        bench_overhead(base, args.runs)
        bench_artifact(base, args.artifact_mb)
        bench_reader(base, args.log_steps)
        leaked = [p for p in home.rglob("*") if p.is_file()]
        print(f"files written under $HOME: {len(leaked)}")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
