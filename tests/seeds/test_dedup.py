"""Exact and MinHash near-dedup on real functions with planted near-duplicates."""

from __future__ import annotations

import inspect
import json
import textwrap

import pytest

from generation.dedup import exact_dedup, minhash_dedup, shingles


def _stdlib_functions() -> list[str]:
    import difflib
    import shlex
    import statistics
    import textwrap as tw

    funcs = [tw.dedent, tw.indent, statistics.median, statistics.mode, shlex.quote, difflib.get_close_matches,
             json.dumps, statistics.fmean]
    return [inspect.getsource(f) for f in funcs]


def _near_copy(code: str) -> str:
    """A copy a person might make: renamed function, one comment added, one line's spacing changed."""
    lines = code.splitlines()
    name = lines[0].split("def ", 1)[1].split("(", 1)[0]
    renamed = code.replace(f"def {name}(", f"def my_{name}(", 1)
    return renamed.replace("\n", "\n    # copied from the standard library\n", 1)


def test_exact_dedup_keeps_first_of_each_key_in_order():
    records = [{"id": i, "text": t} for i, t in enumerate(["a ", "b", " a", "c", "b"])]
    kept, removed = exact_dedup(records, key=lambda r: r["text"].strip())
    assert [r["id"] for r in kept] == [0, 1, 3]
    assert [r["id"] for r in removed] == [2, 4]


def test_minhash_removes_planted_near_duplicates_and_keeps_distinct_functions():
    originals = _stdlib_functions()
    records = [{"id": f"orig{i}", "content": c} for i, c in enumerate(originals)]
    # Plant a near-copy of three of them, in between the originals.
    for i in (1, 4, 6):
        records.insert(i + 3, {"id": f"copy{i}", "content": _near_copy(originals[i])})
    clusters: dict[int, int] = {}
    kept, removed = minhash_dedup(records, text=lambda r: r["content"], threshold=0.5, clusters=clusters)
    assert [r["id"] for r in kept] == [f"orig{i}" for i in range(len(originals))]
    assert sorted(r["id"] for r in removed) == ["copy1", "copy4", "copy6"]
    for dup, first in clusters.items():
        assert records[dup]["id"] == records[first]["id"].replace("orig", "copy")


def test_minhash_keeps_the_first_of_a_cluster_and_is_deterministic():
    base = _stdlib_functions()[0]
    records = [{"id": "a", "content": _near_copy(base)}, {"id": "b", "content": base},
               {"id": "c", "content": _stdlib_functions()[2]}]
    first = minhash_dedup(records, text=lambda r: r["content"], threshold=0.5)
    again = minhash_dedup(list(records), text=lambda r: r["content"], threshold=0.5)
    assert [r["id"] for r in first[0]] == ["a", "c"] and [r["id"] for r in first[1]] == ["b"]
    assert first == again


def test_threshold_decides_what_counts_as_near():
    a = textwrap.dedent('''
        def area(width, height):
            """Area of a rectangle given its width and height in metres."""
            if width < 0 or height < 0:
                raise ValueError("negative side")
            return width * height
    ''')
    # Same function with a different error message and an extra rounding step: a moderate overlap.
    b = a.replace('"negative side"', '"sides must not be negative"').replace(
        "return width * height", "result = width * height\n    return round(result, 2)")
    exact_similarity = len(shingles(a) & shingles(b)) / len(shingles(a) | shingles(b))
    assert 0.3 < exact_similarity < 0.9
    records = [{"c": a}, {"c": b}]
    loose = minhash_dedup(records, text=lambda r: r["c"], threshold=max(0.05, exact_similarity - 0.25))
    strict = minhash_dedup(records, text=lambda r: r["c"], threshold=min(1.0, exact_similarity + 0.25))
    assert len(loose[0]) == 1 and len(strict[0]) == 2


def test_shingles_are_lowercased_word_ngrams():
    assert shingles("Return  A,b(c) d e", ngram=5) == {b"return a b c d", b"a b c d e"}
    assert shingles("x = 1", ngram=5) == {b"x 1"}


def test_bad_threshold_and_tiny_inputs():
    with pytest.raises(ValueError):
        minhash_dedup([{"c": "a"}, {"c": "b"}], text=lambda r: r["c"], threshold=0)
    assert minhash_dedup([], text=lambda r: r["c"], threshold=0.5) == ([], [])
    assert minhash_dedup([{"c": "x"}], text=lambda r: r["c"], threshold=0.5) == ([{"c": "x"}], [])
