"""Paired per-task comparison of two evaluations on the tasks both graded.

One sample per task on both sides: exact McNemar test on the discordant tasks, with Newcombe's interval
for a paired difference of proportions (Wilson score limits, method 10 of Newcombe 1998). Several samples:
the per-task pass-rate differences go through a sign-flip permutation test (exact when there are few
non-zero differences) and a paired bootstrap over tasks (BCa, percentile where BCa is degenerate).
Scores are fractions in [0, 1]; p-values are two-sided.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats


@dataclass
class Paired:
    suite: str
    tasks: int
    base: float  # pass@1 of BASE on the common tasks
    new: float
    delta: float  # new - base
    ci: tuple[float, float]  # interval of delta at `confidence`
    confidence: float
    p_value: float
    test: str
    interval: str
    worse: list[tuple[str, float, float]]  # (task, base pass rate, new pass rate): NEW does worse
    better: list[tuple[str, float, float]]

    def to_json(self) -> dict:
        out = asdict(self)
        out["ci"] = list(self.ci)
        out["worse"] = [{"task": t, "base": b, "new": n} for t, b, n in self.worse]
        out["better"] = [{"task": t, "base": b, "new": n} for t, b, n in self.better]
        return out


def wilson(successes: int, n: int, z: float) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_paired(both: int, base_only: int, new_only: int, neither: int, confidence: float) -> tuple[float, float]:
    """Interval of p_new - p_base for paired binary outcomes (Newcombe 1998, method 10)."""
    n = both + base_only + new_only + neither
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p1, p2 = (both + base_only) / n, (both + new_only) / n
    l1, u1 = wilson(both + base_only, n, z)
    l2, u2 = wilson(both + new_only, n, z)
    denom = (both + base_only) * (new_only + neither) * (both + new_only) * (base_only + neither)
    phi = (both * neither - base_only * new_only) / math.sqrt(denom) if denom > 0 else 0.0
    delta = p2 - p1
    below = math.sqrt(max(0.0, (p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2))
    above = math.sqrt(max(0.0, (u2 - p2) ** 2 - 2 * phi * (u2 - p2) * (p1 - l1) + (p1 - l1) ** 2))
    return max(-1.0, delta - below), min(1.0, delta + above)


def mcnemar_exact(base_only: int, new_only: int) -> float:
    """Two-sided exact McNemar p-value: a binomial test on the discordant pairs."""
    discordant = base_only + new_only
    if discordant == 0:
        return 1.0
    return float(stats.binomtest(min(base_only, new_only), discordant, 0.5).pvalue)


def sign_flip_p(diffs: np.ndarray, resamples: int, seed: int) -> float:
    """Two-sided permutation p-value of mean(diffs) = 0, flipping the sign of each task's difference."""
    nonzero = diffs[diffs != 0]  # zeros are unchanged by a flip
    if nonzero.size == 0:
        return 1.0
    result = stats.permutation_test((nonzero,), np.mean, permutation_type="samples", n_resamples=resamples,
                                    alternative="two-sided", rng=np.random.default_rng(seed))
    return float(min(1.0, result.pvalue))


def bootstrap_ci(diffs: np.ndarray, confidence: float, resamples: int, seed: int) -> tuple[tuple[float, float], str]:
    if np.all(diffs == diffs[0]):
        return (float(diffs[0]), float(diffs[0])), "paired bootstrap over tasks (no spread)"
    for method in ("BCa", "percentile"):  # BCa fails (nan) on some degenerate resample distributions
        with np.errstate(all="ignore"):
            ci = stats.bootstrap((diffs,), np.mean, confidence_level=confidence, n_resamples=resamples,
                                 method=method, rng=np.random.default_rng(seed)).confidence_interval
        if method == "percentile" or (np.isfinite(ci.low) and np.isfinite(ci.high)):
            break
    return (float(ci.low), float(ci.high)), f"paired bootstrap over tasks ({method}, {resamples} resamples)"


def compare(suite: str, base: dict[str, list[bool]], new: dict[str, list[bool]], tasks: list[str],
            confidence: float = 0.95, resamples: int = 10_000, seed: int = 0) -> Paired:
    """Paired comparison of NEW against BASE on `tasks` (each must be in both)."""
    if not tasks:
        raise ValueError("no common tasks to compare")
    rate_b = np.array([sum(base[t]) / len(base[t]) for t in tasks])
    rate_n = np.array([sum(new[t]) / len(new[t]) for t in tasks])
    worse = [(t, float(b), float(n)) for t, b, n in zip(tasks, rate_b, rate_n) if n < b]
    better = [(t, float(b), float(n)) for t, b, n in zip(tasks, rate_b, rate_n) if n > b]
    if all(len(base[t]) == 1 and len(new[t]) == 1 for t in tasks):
        b = rate_b.astype(bool)
        n = rate_n.astype(bool)
        cells = int((b & n).sum()), int((b & ~n).sum()), int((~b & n).sum()), int((~b & ~n).sum())
        p_value = mcnemar_exact(cells[1], cells[2])
        ci = newcombe_paired(*cells, confidence)
        test, interval = "exact McNemar", "Newcombe paired score interval"
    else:
        diffs = rate_n - rate_b
        p_value = sign_flip_p(diffs, resamples, seed)
        ci, interval = bootstrap_ci(diffs, confidence, resamples, seed)
        exact = 2 ** int(np.count_nonzero(diffs)) <= resamples
        test = f"paired permutation (sign flips over tasks, {'exact' if exact else f'{resamples} resamples'})"
    return Paired(suite=suite, tasks=len(tasks), base=float(rate_b.mean()), new=float(rate_n.mean()),
                  delta=float(rate_n.mean() - rate_b.mean()), ci=ci, confidence=confidence, p_value=p_value,
                  test=test, interval=interval, worse=sorted(worse, key=lambda w: (w[2] - w[1], natural(w[0]))),
                  better=sorted(better, key=lambda w: (w[1] - w[2], natural(w[0]))))


def natural(task: str) -> list:
    """Sort key putting HumanEval/9 before HumanEval/10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", task)]
