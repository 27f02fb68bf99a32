"""The comparison rules on their own: ours (stdin and JSON) and upstream's stdin rule."""

from __future__ import annotations

import pytest

from benchmarks.livecodebench.compare import json_equal, stdin_equal, stdin_equal_upstream

TOL = {"abs": 1e-6, "rel": 1e-6}


@pytest.mark.parametrize("output, expected, tolerance, ours, upstream", [
    ("3\n", "3\n", None, True, True),
    ("3", "3\n", None, True, True),  # no final newline
    ("3  \r\n\n\n", "3\n", None, True, True),  # trailing spaces, CRLF, trailing blank lines
    ("1   2\n", "1 2\n", None, True, True),  # tokens, not spacing
    ("\n3\n", "3\n", None, False, True),  # a blank first line is a line
    ("  3\n", "3\n", None, True, True),
    ("4.0\n", "4\n", None, False, True),  # upstream's Decimal fallback
    ("200\n", "0200\n", None, False, True),
    ("1e3\n", "1000\n", None, False, True),
    ("Yes\n", "yes\n", None, False, False),
    ("a  b\n", "a b\n", None, True, False),
    ("0.3333333\n", "0.3333333333\n", TOL, True, False),
    ("0.333\n", "0.3333333333\n", TOL, False, False),
    ("1000000.5\n", "1000000\n", TOL, True, False),  # relative 5e-7
    ("nan\n", "nan\n", TOL, True, True),  # equal text is equal, numeric or not
    ("inf\n", "1e308\n", TOL, False, False),
    ("1 2\n", "1 2 3\n", None, False, False),
    ("", "", None, True, True),
])
def test_stdin_rules(output, expected, tolerance, ours, upstream):
    assert stdin_equal(output, expected, tolerance)[0] is ours
    assert stdin_equal_upstream(output, expected)[0] is upstream


@pytest.mark.parametrize("got, want, tolerance, equal", [
    ([1, 2], [1, 2], None, True),
    ((1, 2), [1, 2], None, True),
    ([(1, 2)], [[1, 2]], None, True),
    (True, 1, None, False),
    (1, True, None, False),
    (False, False, None, True),
    (2.0, 2, None, True),
    (0.1 + 0.2, 0.3, None, False),
    (0.1 + 0.2, 0.3, TOL, True),
    ({"a": [1]}, {"a": [1]}, None, True),
    ({"a": 1}, {"a": 1, "b": 2}, None, False),
    (None, None, None, True),
    ("1", 1, None, False),
    ([1, [2, 3]], [1, [2, 4]], None, False),
])
def test_json_rule(got, want, tolerance, equal):
    ok, why = json_equal(got, want, tolerance)
    assert ok is equal and (why is None) is equal
