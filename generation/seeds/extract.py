"""Top-level functions with a docstring, cut out of Python files, with the imports they use.

As the paper's seed gathering, a file is split with tree-sitter (several times faster than `ast` on
the whole module) into its top-level function definitions (decorators dropped, as the paper's
query took the `def` node alone); a function is a candidate when the first statement of its body
is a triple-quoted string. Each candidate is then parsed with `ast` on its own text, and the
module-level imports (including those inside top-level `if`/`try` blocks) that bind a name the
function uses are kept beside it, relative imports made absolute from the file's package, for
import inference later.
"""

from __future__ import annotations

import ast
import re
import warnings
from functools import lru_cache
from pathlib import Path

# A docstring literal: optional r/u prefix, then one of the configured triple quotes.
_PREFIX = re.compile(r"^[rRuU]?")


@lru_cache(maxsize=1)
def _parser():
    import tree_sitter_python
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_python.language()))


@lru_cache(maxsize=64)
def quiet_parse(code: str) -> ast.Module:
    """ast.parse without SyntaxWarnings for the invalid escapes old code is full of.

    Cached: the filters read the same function one after another (callers never mutate the tree).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(code)


def _block_imports(node, src: bytes, out: list[str]) -> None:
    """Import statements at module level, looking into if/try/with blocks but never into a def or class."""
    for child in node.named_children:
        kind = child.type
        if kind in ("import_statement", "import_from_statement", "future_import_statement"):
            out.append(src[child.start_byte:child.end_byte].decode("utf-8", "replace"))
        elif kind in ("if_statement", "try_statement", "with_statement", "block", "else_clause",
                      "elif_clause", "except_clause", "finally_clause"):
            _block_imports(child, src, out)


def _first_is_string(fn) -> bool:
    body = fn.child_by_field_name("body")
    if body is None:
        return False
    for child in body.named_children:
        if child.type == "comment":
            continue
        return child.type == "expression_statement" and bool(child.named_children) \
            and child.named_children[0].type in ("string", "concatenated_string")
    return False


def split_module(src: bytes) -> tuple[list[tuple[str, int]], list[str], int]:
    """(candidate functions as (text, 1-based line), module import statements, top-level function count)."""
    tree = _parser().parse(src)
    functions: list[tuple[str, int]] = []
    count = 0
    for node in tree.root_node.named_children:
        fn = node.child_by_field_name("definition") if node.type == "decorated_definition" else node
        if fn is None or fn.type != "function_definition":
            continue
        count += 1
        if fn.start_point[1] != 0 or fn.has_error or not _first_is_string(fn):
            continue
        functions.append((src[fn.start_byte:fn.end_byte].decode("utf-8", "replace"), fn.start_point[0] + 1))
    imports: list[str] = []
    _block_imports(tree.root_node, src, imports)
    return functions, imports, count


def docstring_quote(fn: ast.FunctionDef | ast.AsyncFunctionDef, code: str) -> str | None:
    """The opening quotes of the function's docstring literal (e.g. '\"\"\"'), or None without a docstring."""
    if not fn.body:
        return None
    first = fn.body[0]
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        return None
    line = code.splitlines()[first.value.lineno - 1].encode()  # col_offset counts UTF-8 bytes
    literal = line[first.value.col_offset:].decode("utf-8", "replace")
    literal = literal[len(_PREFIX.match(literal).group(0)):]  # type: ignore[union-attr]
    return literal[:3] if literal[:3] in ('"""', "'''") else literal[:1]


def first_function(tree: ast.Module) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    return next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)


def module_name(relpath: str) -> str:
    """`pkg/sub/mod.py` -> `pkg.sub.mod` (`pkg/__init__.py` -> `pkg`)."""
    parts = list(Path(relpath).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(module: str | None, level: int, package: str) -> str | None:
    if level == 0:
        return module
    base = package.split(".") if package else []
    if level - 1 > len(base) or (level - 1 == len(base) and not module):
        return None
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([module] if module else [])) or None


def import_bindings(statements: list[str], package: str = "") -> dict[str, list[str]]:
    """Name bound at module level -> the minimal absolute import statements that bind it."""
    bindings: dict[str, list[str]] = {}
    for text in statements:
        try:
            tree = quiet_parse(text)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    stmt = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                    bindings.setdefault(bound, [])
                    if stmt not in bindings[bound]:
                        bindings[bound].append(stmt)
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(node.module, node.level, package)
                if source is None or source == "__future__":
                    continue
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    bound = alias.asname or alias.name
                    stmt = f"from {source} import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                    bindings.setdefault(bound, [])
                    if stmt not in bindings[bound]:
                        bindings[bound].append(stmt)
    return bindings


def extract_functions(src: bytes, relpath: str = "", *, quotes: tuple[str, ...] = ('"""', "'''"),
                      package: str | None = None) -> tuple[list[dict], dict[str, int]]:
    """Candidate seeds of one file and the file's counts.

    Each candidate: content, name, line, free_names (module-level names it reads but never binds),
    file_imports ({free name: the file's import statements that bind it}), and what the static
    filters need from its syntax tree (returns_value, has_argument, imported_modules), computed
    here while the tree is at hand, in the extraction's worker processes.
    """
    from generation.seeds import filters
    from generation.seeds.imports import free_names

    stats = {"files": 1, "unparsable_files": 0, "top_level_functions": 0, "with_docstring": 0,
             "syntax_errors": 0}
    try:
        functions, imports, count = split_module(src)
    except (ValueError, RuntimeError):
        stats["unparsable_files"] = 1
        return [], stats
    stats["top_level_functions"] = count
    if package is None:
        name = module_name(relpath)
        package = name if relpath.endswith("__init__.py") else name.rpartition(".")[0]
    bindings: dict[str, list[str]] | None = None
    out = []
    for text, line in functions:
        try:
            tree = quiet_parse(text)
        except (SyntaxError, ValueError):
            stats["syntax_errors"] += 1
            continue
        fn = first_function(tree)
        if fn is None or docstring_quote(fn, text) not in quotes:
            continue
        stats["with_docstring"] += 1
        if bindings is None:
            bindings = import_bindings(imports, package)
        names = free_names(text)
        out.append({"content": text, "name": fn.name, "line": line, "free_names": names,
                    "file_imports": {n: bindings[n] for n in names if n in bindings},
                    "returns_value": filters.has_return_value(text), "has_argument": filters.has_argument(text),
                    "imported_modules": filters.imported_modules(text)})
    return out, stats
