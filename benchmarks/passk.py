"""pass@k (the unbiased estimator of Chen et al. 2021) with a 95% confidence interval over tasks."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

DEFAULT_KS = (1, 5, 10, 20, 50, 100)


def estimate(n: Sequence[int], c: Sequence[int], k: int) -> np.ndarray:
    """Per-task pass@k = 1 - C(n-c, k) / C(n, k), computed as a stable product (as evalplus/human-eval)."""
    out = []
    for ni, ci in zip(n, c):
        ni, ci = int(ni), int(ci)
        if ni < k:
            raise ValueError(f"pass@{k} needs at least {k} samples per task, a task has {ni}")
        out.append(1.0 if ni - ci < k else 1.0 - float(np.prod(1.0 - k / np.arange(ni - ci + 1, ni + 1))))
    return np.array(out, dtype=float)


def with_ci(per_task: np.ndarray, z: float = 1.959963984540054) -> dict:
    """Mean over tasks and a normal-approximation 95% CI of that mean, clipped to [0, 1].

    Tasks are the sampling unit (the benchmark is a sample of problems), so the interval reflects
    problem-to-problem spread plus sampling noise within each task.
    """
    t = len(per_task)
    mean = float(per_task.mean())
    if t < 2:  # no spread to estimate from one task
        return {"value": mean, "ci95": None}
    half = z * float(per_task.std(ddof=1)) / math.sqrt(t)
    return {"value": mean, "ci95": [max(0.0, mean - half), min(1.0, mean + half)]}


def pass_at_k(n: Sequence[int], c: Sequence[int], ks: Sequence[int] = DEFAULT_KS) -> dict[str, dict]:
    """{"pass@k": {"value", "ci95"}} for every k that every task has enough samples for (ci95 None for one task)."""
    if not len(n):
        return {}
    smallest = min(int(x) for x in n)
    return {f"pass@{k}": with_ci(estimate(n, c, k)) for k in ks if k <= smallest}
