"""Python modules a sandbox program imports from its working directory, shipped as Program files.

The sandbox shows a program only the system's own directories, so a program that needs harness code
(the load-fair clocks, a benchmark's comparison rules) gets the module's source beside main.py, plus an
unchecked-hash .pyc (PEP 552) so it imports without compiling. The .pyc carries this interpreter's cache
tag: a sandbox running another Python ignores it and compiles the source.
"""

from __future__ import annotations

import functools
import importlib.util
import py_compile
import tempfile
from pathlib import Path

CLOCKS = ("sca_clocks", Path(__file__).with_name("clocks.py"))


def module_files(*modules: tuple[str, Path]) -> dict[str, bytes]:
    """Program.files entries that make each (import name, source file) importable by a program."""
    files: dict[str, bytes] = {}
    for name, path in modules:
        files.update(_compiled(name, str(path), Path(path).stat().st_mtime_ns))
    return files


def module_sources(*modules: tuple[str, Path]) -> dict[str, str]:
    """Import name -> source text: what a grader's semantics depend on, for its version hash."""
    return {name: Path(path).read_text() for name, path in modules}


@functools.lru_cache(maxsize=32)
def _compiled(name: str, path: str, _mtime_ns: int) -> dict[str, bytes]:
    source = Path(path).read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        py = Path(tmp) / f"{name}.py"
        py.write_bytes(source)
        pyc = py_compile.compile(str(py), cfile=str(Path(tmp) / f"{name}.pyc"), doraise=True,
                                 invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        return {f"{name}.py": source, importlib.util.cache_from_source(f"{name}.py"): Path(pyc).read_bytes()}
