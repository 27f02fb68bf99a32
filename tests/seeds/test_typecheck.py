"""Pyright in batches on real functions: 0 errors passes; order and batching do not change verdicts."""

from __future__ import annotations

import textwrap

import pytest

from generation.seeds.typecheck import typecheck
from harness.errors import UserError

GOOD = textwrap.dedent('''
    def mean(values: list[float]) -> float:
        """Arithmetic mean of a non-empty list."""
        return sum(values) / len(values)
''')
WRONG_RETURN = textwrap.dedent('''
    def label(n: int) -> str:
        """The number as text (but it returns the int)."""
        return n
''')
UNDEFINED = textwrap.dedent('''
    def scaled(x):
        """x times the module's factor."""
        return x * FACTOR
''')
THIRD_PARTY = textwrap.dedent('''
    import numpy as np


    def norm(v):
        """Euclidean norm of v."""
        return float(np.linalg.norm(np.asarray(v)))
''')
MISSING_MODULE = textwrap.dedent('''
    import no_such_module_anywhere


    def f(x):
        """Use a module that is not installed."""
        return no_such_module_anywhere.g(x)
''')


def test_verdicts_per_function_across_batches():
    codes = [GOOD, WRONG_RETURN, UNDEFINED, THIRD_PARTY, MISSING_MODULE]
    verdicts = typecheck(codes, batch_size=2, workers=2)
    errors = [n for n, _ in verdicts]
    assert errors[0] == 0 and errors[3] == 0
    assert all(n >= 1 for n in errors[1:3] + errors[4:])
    assert "reportReturnType" in verdicts[1][1] or "not assignable" in verdicts[1][1]
    assert "FACTOR" in verdicts[2][1] and "reportUndefinedVariable" in verdicts[2][1]
    assert verdicts[0][1] is None
    # The same functions in one batch get the same verdicts.
    assert [n == 0 for n, _ in typecheck(codes, batch_size=10, workers=1)] == [n == 0 for n in errors]


def test_empty_input_and_missing_checker():
    assert typecheck([]) == []
    with pytest.raises(RuntimeError, match="without a JSON report"):
        typecheck([GOOD], command=["false"])


def test_unknown_command_is_reported(monkeypatch):
    import generation.seeds.typecheck as tc

    monkeypatch.setattr(tc.shutil, "which", lambda name: None)
    monkeypatch.setattr(tc.sys, "executable", "/nonexistent/bin/python")
    with pytest.raises(UserError, match="neither basedpyright nor pyright"):
        tc.pyright_command()
