"""pass@k: the unbiased estimator agrees with evalplus's, and the CI behaves."""

from __future__ import annotations

import numpy as np
import pytest
from evalplus.eval import estimate_pass_at_k

from benchmarks import passk


def test_estimator_matches_evalplus():
    rng = np.random.default_rng(0)
    n = rng.integers(10, 60, size=200)
    c = np.array([rng.integers(0, x + 1) for x in n])
    for k in (1, 5, 10):
        np.testing.assert_allclose(passk.estimate(n, c, k), estimate_pass_at_k(n, c, k))


def test_only_ks_every_task_supports_and_ci_contains_mean():
    out = passk.pass_at_k([10, 12, 10], [3, 0, 10])
    assert set(out) == {"pass@1", "pass@5", "pass@10"}
    p1 = out["pass@1"]
    assert p1["value"] == pytest.approx((0.3 + 0.0 + 1.0) / 3)
    lo, hi = p1["ci95"]
    assert 0.0 <= lo < p1["value"] < hi <= 1.0


def test_single_task_has_no_interval_and_too_few_samples_raise():
    assert passk.pass_at_k([1], [1]) == {"pass@1": {"value": 1.0, "ci95": None}}
    with pytest.raises(ValueError):
        passk.estimate([3], [1], 5)
