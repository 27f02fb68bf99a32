"""Decontamination speed against the paper's plain loop, measured in the same run.

    .venv/bin/python tests/bench/bench_seeds.py [--files 400] [--texts 3000]

The texts are real seed candidates (top-level docstring functions of the standard library);
the benchmark strings are every docstring, solution and test of the benchmarks the harness
evaluates. Ours: the indexed exact-substring search of benchmarks/contamination.py (best of 3).
Baseline: the official filter's loop, every benchmark string `in` every text. Both must flag
the same texts; one text in a hundred has a benchmark string planted in it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=400, help="standard-library files to take functions from")
    parser.add_argument("--texts", type=int, default=3000, help="texts to check (the functions, repeated)")
    args = parser.parse_args()
    os.environ.setdefault("SCA_DATA_DIR", str(Path(__file__).resolve().parents[3] / "shared" / "data"))
    from benchmarks.contamination import Contamination, normalize
    from generation.seeds.corpus import list_files
    from generation.seeds.extract import extract_functions

    print(f"load: {os.getloadavg()[0]:.1f} (1-min average) on {os.cpu_count()} CPUs")
    functions = [r["content"] for f in list_files(["stdlib"])[: args.files]
                 for r in extract_functions(f.path.read_bytes(), f.relpath)[0]]
    texts = (functions * (args.texts // max(1, len(functions)) + 1))[: args.texts]
    started = time.perf_counter()
    index = Contamination.from_benchmarks()
    load = time.perf_counter() - started
    # One text in a hundred carries a benchmark string, so agreement is checked on hits too.
    for k in range(0, len(texts), 100):
        texts[k] = texts[k] + "\n" + index.strings[(k * 37) % len(index)]
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        ours = [index.find(t) is not None for t in texts]
        runs.append(time.perf_counter() - started)
    fast = min(runs)
    started = time.perf_counter()
    naive = []
    for t in texts:
        haystack = normalize(t)
        naive.append(any(s in haystack for s in index.strings))
    slow = time.perf_counter() - started
    if ours != naive:
        print("indexed search and the plain loop disagree", file=sys.stderr)
        return 1
    mb = sum(map(len, texts)) / 1e6
    print(f"decontamination: {len(texts):,} texts ({mb:.1f} MB) x {len(index):,} benchmark strings: "
          f"indexed {fast:.3f}s ({len(texts) / fast:,.0f} texts/s), plain loop {slow:.3f}s -> {slow / fast:.1f}x; "
          f"{sum(ours)} flagged by both; loading the benchmarks took {load:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
