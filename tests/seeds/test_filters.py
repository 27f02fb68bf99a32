"""Each static seed filter on real functions it keeps and drops."""

from __future__ import annotations

import textwrap

import pytest

from generation.seeds import filters


def code(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


CLAMP = code('''
    def clamp(value, low, high):
        """Limit value to the range [low, high]."""
        return max(low, min(value, high))
''')


@pytest.mark.parametrize("src, keep", [
    (CLAMP, True),
    (code("""
        def quoted(x):
            '''Single-quoted triple docstring.'''
            return x
    """), True),
    (code('''
        def raw(pattern):
            r"""Match \\d+ in pattern."""
            return pattern
    '''), True),
    (code("""
        def short(x):
            "A one-quote docstring."
            return x
    """), False),
    (code("""
        def undocumented(x):
            # a comment is not a docstring
            return x
    """), False),
    (code('''
        def late(x):
            y = x
            """A string after the first statement."""
            return y
    '''), False),
])
def test_docstring_must_be_triple_quoted_and_first(src, keep):
    assert filters.has_docstring(src) is keep


def test_docstring_quotes_are_configurable_to_the_papers_double_quotes_only():
    single = code("""
        def quoted(x):
            '''Single-quoted triple docstring.'''
            return x
    """)
    assert filters.has_docstring(single, quotes=("'''", '"""'))
    assert not filters.has_docstring(single, quotes=('"""',))


@pytest.mark.parametrize("src, keep", [
    (CLAMP, True),
    (code('''
        def find(items, target):
            """Index of target in items, or None."""
            for i, item in enumerate(items):
                if item == target:
                    return i
            return None
    '''), True),
    (code('''
        def outer(n):
            """Build an adder."""
            def add(x):
                return x + n
            add.n = n
    '''), True),  # a nested return counts, as the paper's query over the whole snippet
    (code('''
        def log(message):
            """Print message with a prefix."""
            print("log:", message)
            return
    '''), False),
    (code('''
        def fill(buffer, value):
            """Set every slot of buffer to value."""
            for i in range(len(buffer)):
                buffer[i] = value
    '''), False),
])
def test_return_value(src, keep):
    assert filters.has_return_value(src) is keep


@pytest.mark.parametrize("src, keep", [
    (CLAMP, True),
    (code('''
        def merge(*dicts):
            """Merge dicts left to right."""
            out = {}
            for d in dicts:
                out.update(d)
            return out
    '''), True),
    (code('''
        def options(**kwargs):
            """The keyword arguments as a dict."""
            return dict(kwargs)
    '''), True),
    (code('''
        def answer():
            """The answer."""
            return 42
    '''), False),
    (code('''
        def typed() -> int:
            """The paper's `():` text check missed this one."""
            return 1
    '''), False),
])
def test_argument(src, keep):
    assert filters.has_argument(src) is keep


def test_max_lines_counts_lines_of_the_whole_content():
    body = "\n".join(f"    x += {i}" for i in range(147))
    src = f'def long(x):\n    """Add a lot."""\n{body}\n    return x'
    assert len(src.split("\n")) == 150 and filters.within_max_lines(src)
    assert not filters.within_max_lines("import math\n" + src)
    assert not filters.within_max_lines(src, max_lines=149)


@pytest.mark.parametrize("src, word", [
    (CLAMP, None),
    (code('''
        def parse(text):
            """Parse text. TODO: handle tabs."""
            return text.split()
    '''), "todo"),
    (code('''
        def fixed(x):
            """Work around a Fixme in the caller."""
            return x
    '''), "fixme"),
    (code('''
        def trace(x, debug=False):
            """Return x; with debug, print it first."""
            return x
    '''), "bug"),  # lower-cased substring, as the paper: `debug` contains `bug`
])
def test_bad_words(src, word):
    assert filters.bad_word(src) == word


@pytest.mark.parametrize("src, module", [
    (CLAMP, None),
    (code('''
        import os


        def home(user):
            """Home folder of user."""
            return os.path.join("/home", user)
    '''), "os"),
    (code('''
        from os.path import join


        def home(user):
            """Home folder of user."""
            return join("/home", user)
    '''), "os.path"),
    (code('''
        def run(cmd):
            """Run cmd and return its output."""
            import subprocess
            return subprocess.run(cmd, capture_output=True).stdout
    '''), "subprocess"),
    (code('''
        import ossaudiodev
        import json


        def dump(obj):
            """Serialize obj (an import of a module whose name starts with 'os' is fine)."""
            return json.dumps(obj)
    '''), None),
    (code('''
        import matplotlib.pyplot as plt


        def plot(xs):
            """Plot xs."""
            return plt.plot(xs)
    '''), "matplotlib.pyplot"),
])
def test_bad_imports(src, module):
    assert filters.bad_import(src) == module


def test_bad_imports_fall_back_to_the_papers_substring_on_unparsable_code():
    assert filters.bad_import("import sys\ndef broken(:\n") == "sys"
