"""The paper's static seed filters, one small function each (True / None = keep).

They read the seed's `content` as it stands when they run (after import inference, as in the
official pipeline, so an inferred `import os` counts as importing os). Our readings:
- arguments, return values and imports are read from the syntax tree, not from text: the official
  argument check looked for `():` on a `def` line, so `def f() -> int:` passed it; its import
  check was the substring `import os` / `from os`, which also caught `import ossaudiodev`;
- the bad words stay a lower-cased substring test over everything, as the paper (`bug` also
  drops `debug`).
"""

from __future__ import annotations

import ast

from generation.seeds.extract import docstring_quote, first_function, quiet_parse

BAD_WORDS = ("todo", "fixme", "bug")
BAD_IMPORTS = ("argparse", "os", "subprocess", "sys", "setuptools", "distutils", "matplotlib", "seaborn")
MAX_LINES = 150
DOCSTRING_QUOTES = ('"""', "'''")


def _function(code: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    try:
        return first_function(quiet_parse(code))
    except (SyntaxError, ValueError):
        return None


def has_docstring(code: str, quotes: tuple[str, ...] = DOCSTRING_QUOTES) -> bool:
    """The first top-level function's first statement is a string written with one of `quotes`."""
    fn = _function(code)
    return fn is not None and docstring_quote(fn, code) in quotes


def has_return_value(code: str) -> bool:
    """Some `return <value>` anywhere in the code (a bare `return` does not count)."""
    try:
        tree = quiet_parse(code)
    except (SyntaxError, ValueError):
        return False
    return any(isinstance(n, ast.Return) and n.value is not None for n in ast.walk(tree))


def has_argument(code: str) -> bool:
    """The top-level function takes at least one parameter (positional, keyword, *args or **kwargs)."""
    fn = _function(code)
    if fn is None:
        return False
    a = fn.args
    return bool(a.posonlyargs or a.args or a.kwonlyargs or a.vararg or a.kwarg)


def within_max_lines(code: str, max_lines: int = MAX_LINES) -> bool:
    return len(code.split("\n")) <= max_lines


def bad_word(code: str, words: tuple[str, ...] = BAD_WORDS) -> str | None:
    """The first of `words` found in the lower-cased code, else None."""
    lower = code.lower()
    return next((w for w in words if w in lower), None)


def imported_modules(code: str) -> list[str] | None:
    """Every module the code imports (dotted, absolute imports only), or None when it does not parse."""
    try:
        tree = quiet_parse(code)
    except (SyntaxError, ValueError):
        return None
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def first_banned(names: list[str], modules: tuple[str, ...] = BAD_IMPORTS) -> str | None:
    """The first of `names` that is one of `modules` or a submodule of one."""
    banned = set(modules)
    return next((n for n in names if n.split(".")[0] in banned), None)


def bad_import(code: str, modules: tuple[str, ...] = BAD_IMPORTS) -> str | None:
    """The first import (anywhere in the code) of one of `modules` or a submodule, else None."""
    names = imported_modules(code)
    if names is None:  # unparsable: fall back to the paper's substring test
        lower = code.lower()
        return next((m for m in modules if f"import {m}" in lower or f"from {m}" in lower), None)
    return first_banned(names, modules)
