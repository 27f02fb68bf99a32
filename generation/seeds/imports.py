"""Import inference: make a lone function import what it uses, as the paper did before type-checking.

The official pipeline ran `autoimport` on each function: a name the function uses but never binds
becomes `import name` when it is an importable module, else `from typing import name` when typing
has it. We do the same, and first use the better evidence a local corpus has: the import
statements of the function's own file that bind the name (`import numpy as np`,
`from collections import OrderedDict`, relative imports made absolute). Names nothing resolves
stay undefined, and Pyright rejects the function afterwards.
"""

from __future__ import annotations

import builtins
import importlib.util
import re
import symtable
import typing
from dataclasses import dataclass
from functools import lru_cache

_BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__", "__loader__",
                                        "__package__", "__builtins__"}


_IDENTIFIER = re.compile(r"(?<![\w.])[A-Za-z_]\w*")


def free_names(code: str) -> list[str]:
    """Module-level names the code reads but never binds (not builtins), in order of first appearance."""
    try:
        top = symtable.symtable(code, "<seed>", "exec")
    except (SyntaxError, ValueError):
        return []
    bound = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    found: dict[str, None] = {}

    def visit(table: symtable.SymbolTable, is_top: bool) -> None:
        for sym in table.get_symbols():
            name = sym.get_name()
            if not sym.is_referenced() or name in _BUILTINS or name in bound:
                continue
            if is_top or sym.is_global():
                found.setdefault(name)
        for child in table.get_children():
            visit(child, False)

    visit(top, True)
    # symtable lists symbols per scope, not in source order: sort by first textual use.
    first: dict[str, int] = {}
    for match in _IDENTIFIER.finditer(code):
        first.setdefault(match.group(), match.start())
    return sorted(found, key=lambda n: (first.get(n, len(code)), n))


@lru_cache(maxsize=4096)
def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def fallback_import(name: str) -> str | None:
    """autoimport's rule for a name with no import in sight: a module of that name, else typing's."""
    if _is_module(name):
        return f"import {name}"
    if name in typing.__all__:
        return f"from typing import {name}"
    return None


@dataclass(frozen=True)
class Inferred:
    content: str  # the code with the added imports in front
    added: list[str]  # the import statements added
    unresolved: list[str]  # free names no import provides (Pyright will call them undefined)


def infer_imports(code: str, file_imports: dict[str, list[str]] | None = None,
                  names: list[str] | None = None) -> Inferred:
    """Imports for every free name of code: the file's own first (name -> statements binding it),
    then the fallback rule. `names` are the code's free names when the caller computed them already."""
    statements: list[str] = []
    unresolved: list[str] = []
    for name in free_names(code) if names is None else names:
        found = (file_imports or {}).get(name) or ([stmt] if (stmt := fallback_import(name)) else [])
        if not found:
            unresolved.append(name)
        statements.extend(s for s in found if s not in statements)
    if not statements:
        return Inferred(code, [], unresolved)
    ordered = sorted(statements, key=lambda s: (s.startswith("from "), s))
    return Inferred("\n".join(ordered) + "\n\n\n" + code.lstrip("\n"), statements, unresolved)
