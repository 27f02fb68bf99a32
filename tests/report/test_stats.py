"""The paired tests behind `sca regress`, checked against direct computations and by simulation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from harness.report import stats


def test_mcnemar_is_the_exact_binomial_on_discordant_tasks():
    # 1 task lost and 9 gained: P = 2 * P(X <= 1), X ~ Bin(10, 1/2)
    assert stats.mcnemar_exact(1, 9) == pytest.approx(2 * (math.comb(10, 0) + math.comb(10, 1)) / 2 ** 10)
    assert stats.mcnemar_exact(9, 1) == stats.mcnemar_exact(1, 9)
    assert stats.mcnemar_exact(0, 0) == 1.0
    assert stats.mcnemar_exact(5, 5) == 1.0


def test_newcombe_interval_covers_the_true_difference_about_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    n, p_base, p_new, sims = 120, 0.45, 0.55, 2000
    covered = 0
    for _ in range(sims):
        base = rng.random(n) < p_base
        # NEW is correlated with BASE, as two models on one benchmark are: keep most verdicts, redraw some
        redraw = rng.random(n) < 0.5
        new = np.where(redraw, rng.random(n) < p_new, base)
        true_delta = 0.5 * (p_new - p_base)  # P(new) = 0.5 * p_base + 0.5 * p_new
        cells = (int((base & new).sum()), int((base & ~new).sum()), int((~base & new).sum()), int((~base & ~new).sum()))
        low, high = stats.newcombe_paired(*cells, 0.95)
        covered += low <= true_delta <= high
    assert 0.93 <= covered / sims <= 0.975


def test_newcombe_interval_holds_its_estimate_and_stays_in_range():
    for cells in [(0, 0, 10, 0), (10, 0, 0, 0), (3, 4, 5, 6), (0, 7, 0, 0)]:
        low, high = stats.newcombe_paired(*cells, 0.95)
        n = sum(cells)
        delta = (cells[2] - cells[1]) / n
        assert -1.0 <= low <= delta <= high <= 1.0


def test_sign_flip_p_value_is_the_exact_enumeration_when_few_tasks_differ():
    diffs = np.array([0.6, 0.2, -0.2, 0.4, 0.0, 0.8, 0.0, 0.2])
    nonzero = diffs[diffs != 0]
    observed = abs(nonzero.mean())
    flips = [abs(np.mean(nonzero * np.array(signs))) >= observed - 1e-12
             for signs in itertools.product((1, -1), repeat=len(nonzero))]
    assert stats.sign_flip_p(diffs, resamples=10_000, seed=0) == pytest.approx(sum(flips) / len(flips))
    assert stats.sign_flip_p(np.zeros(5), 10_000, 0) == 1.0


def test_bootstrap_interval_holds_the_mean_and_narrows_with_more_tasks():
    rng = np.random.default_rng(3)
    small = rng.normal(0.1, 0.3, 40)
    large = rng.normal(0.1, 0.3, 400)
    (lo_s, hi_s), _ = stats.bootstrap_ci(small, 0.95, 5000, 0)
    (lo_l, hi_l), method = stats.bootstrap_ci(large, 0.95, 5000, 0)
    assert lo_s <= small.mean() <= hi_s and lo_l <= large.mean() <= hi_l
    assert hi_l - lo_l < hi_s - lo_s
    assert "BCa" in method
    assert stats.bootstrap_ci(np.full(10, 0.25), 0.95, 1000, 0)[0] == (0.25, 0.25)


def test_compare_picks_mcnemar_for_one_sample_and_permutation_for_several():
    tasks = [f"T/{i}" for i in range(30)]
    base = {t: [i % 2 == 0] for i, t in enumerate(tasks)}
    new = {t: [True] for t in tasks}
    one = stats.compare("plus", base, new, tasks)
    assert one.test == "exact McNemar"
    assert one.delta == pytest.approx(0.5) and one.base == pytest.approx(0.5) and one.new == 1.0
    assert [w[0] for w in one.better] == [f"T/{i}" for i in range(1, 30, 2)] and one.worse == []
    assert one.p_value == pytest.approx(stats.mcnemar_exact(0, 15))

    base5 = {t: [True, False, True, False, True] for t in tasks}
    new5 = {t: [False] * 5 for t in tasks}
    several = stats.compare("plus", base5, new5, tasks, resamples=2000)
    assert several.test.startswith("paired permutation")
    assert several.delta == pytest.approx(-0.6) and several.p_value < 0.01
    assert several.ci[1] < 0 and len(several.worse) == 30
    assert several.worse[0] == ("T/0", 0.6, 0.0)


def test_tasks_are_listed_in_natural_order():
    tasks = ["HumanEval/10", "HumanEval/9", "HumanEval/100"]
    result = stats.compare("base", {t: [True] for t in tasks}, {t: [False] for t in tasks}, tasks)
    assert [w[0] for w in result.worse] == ["HumanEval/9", "HumanEval/10", "HumanEval/100"]
