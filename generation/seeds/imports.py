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


def inferred_imports(code: str, file_imports: list[str] | None = None) -> list[str]:
    """Import statements for every free name of code: the file's own first, then the fallback rule."""
    from generation.seeds.extract import import_bindings

    known = import_bindings(list(file_imports or ()))
    statements: list[str] = []
    for name in free_names(code):
        found = known.get(name) or ([stmt] if (stmt := fallback_import(name)) else [])
        statements.extend(s for s in found if s not in statements)
    return statements


def with_imports(code: str, file_imports: list[str] | None = None) -> tuple[str, list[str]]:
    """(code with its inferred imports prepended, the statements added)."""
    added = inferred_imports(code, file_imports)
    if not added:
        return code, []
    ordered = sorted(added, key=lambda s: (s.startswith("from "), s))
    return "\n".join(ordered) + "\n\n\n" + code.lstrip("\n"), added
