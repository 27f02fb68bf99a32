"""Output comparison rules: ours, and LiveCodeBench's (upstream's) for counting where they disagree.

Stand-alone on purpose (standard library only): the grader ships this file into the sandbox and
compares there, next to the captured outputs, so expected outputs never travel back.

Ours, for stdin problems: `\\r\\n` is `\\n`, trailing whitespace on a line and trailing blank lines
are ignored, and each line's whitespace-separated tokens must be equal, exactly, except that a
problem whose statement allows an error (a tolerance) compares numeric tokens within it.
For functional problems the returned value is compared as JSON: tuples are lists, a bool is not
a number, numbers compare by value (within the tolerance, when there is one).

Upstream's stdin rule: the whole output stripped, lines stripped, equal line counts, then per
line either equal text or every token parsed by `decimal.Decimal` equal, which accepts `4.0`
for `4` and `0200` for `200`.
"""

import json
import math
import re
from decimal import Decimal, InvalidOperation

# A plain decimal number as judges print it (no "_" separators, no "inf"/"nan" words).
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_SHOW = 60  # characters of a token or line quoted in a detail message


def _show(text):
    text = str(text)
    return repr(text if len(text) <= _SHOW else text[:_SHOW] + "...")


def close(got, want, tolerance):
    """|got - want| within the tolerance's absolute or relative bound."""
    if tolerance is None:
        return got == want
    if math.isnan(got) or math.isnan(want):
        return False
    if math.isinf(got) or math.isinf(want):
        return got == want
    diff = abs(got - want)
    return diff <= tolerance.get("abs", 0.0) or diff <= tolerance.get("rel", 0.0) * abs(want)


def output_lines(text):
    """The lines a judge compares: `\\r\\n` as `\\n`, right-stripped, trailing blank lines dropped."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def stdin_equal(output, expected, tolerance=None):
    """(equal, why not) under our stdin rule."""
    got, want = output_lines(output), output_lines(expected)
    if len(got) != len(want):
        return False, "printed %d line(s), expected %d" % (len(got), len(want))
    for number, (g, w) in enumerate(zip(got, want), 1):
        if g == w:
            continue
        gt, wt = g.split(), w.split()
        if len(gt) != len(wt):
            return False, "line %d: %d token(s), expected %d: got %s, expected %s" % (
                number, len(gt), len(wt), _show(g), _show(w))
        for position, (a, b) in enumerate(zip(gt, wt), 1):
            if a == b:
                continue
            if tolerance is not None and _NUMBER.match(a) and _NUMBER.match(b) and close(float(a), float(b), tolerance):
                continue
            return False, "line %d token %d: got %s, expected %s" % (number, position, _show(a), _show(b))
    return True, None


def _decimals(line):
    try:
        return [Decimal(token) for token in line.split()]
    except (InvalidOperation, ValueError):
        return None


def stdin_equal_upstream(output, expected):
    """(equal, why not) under LiveCodeBench's stdin rule (testing_util.grade_stdio)."""
    got = [line.strip() for line in output.strip().split("\n")]
    want = [line.strip() for line in expected.strip().split("\n")]
    if len(got) != len(want):
        return False, "printed %d line(s), expected %d" % (len(got), len(want))
    for number, (g, w) in enumerate(zip(got, want), 1):
        if g == w:
            continue
        dg, dw = _decimals(g), _decimals(w)
        if dg is None or dw is None or dg != dw:
            return False, "line %d: got %s, expected %s" % (number, _show(g), _show(w))
    return True, None


def _show_json(value):
    try:
        return _show(json.dumps(value))
    except (TypeError, ValueError):
        return _show(value)


def _kind(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return type(value).__name__


def json_equal(got, want, tolerance=None, path="result"):
    """(equal, why not) for two decoded JSON values: tuple = list, a bool is not a number."""
    kg, kw = _kind(got), _kind(want)
    if kg != kw:
        return False, "%s: got %s %s, expected %s %s" % (path, kg, _show_json(got), kw, _show_json(want))
    if kg == "number":
        if got == want or (tolerance is not None and close(float(got), float(want), tolerance)):
            return True, None
        return False, "%s: got %s, expected %s" % (path, _show_json(got), _show_json(want))
    if kg == "list":
        if len(got) != len(want):
            return False, "%s: got %d item(s), expected %d" % (path, len(got), len(want))
        for i, (g, w) in enumerate(zip(got, want)):
            ok, why = json_equal(g, w, tolerance, "%s[%d]" % (path, i))
            if not ok:
                return ok, why
        return True, None
    if kg == "object":
        if set(got) != set(want):
            return False, "%s: keys %s, expected %s" % (path, _show_json(sorted(got)), _show_json(sorted(want)))
        for key in want:
            ok, why = json_equal(got[key], want[key], tolerance, "%s[%r]" % (path, key))
            if not ok:
                return ok, why
        return True, None
    if got == want:
        return True, None
    return False, "%s: got %s, expected %s" % (path, _show_json(got), _show_json(want))
