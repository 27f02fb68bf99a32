"""Extraction of top-level docstring functions, their files' imports, and import inference."""

from __future__ import annotations

import textwrap

from generation.seeds.extract import extract_functions, import_bindings
from generation.seeds.imports import free_names, infer_imports

MODULE = textwrap.dedent('''
    """A module the way real ones look."""
    import numpy as np
    from collections import OrderedDict, Counter
    from . import sibling
    from ..common import helper as h
    try:
        import json
    except ImportError:  # pragma: no cover
        json = None

    SCALE = 2


    def summarize(values: List[int]) -> OrderedDict:
        """Count values and scale them."""
        counts = Counter(values)
        arr = np.array(values) * SCALE
        return OrderedDict(json.loads(json.dumps(counts))), arr, h(sibling), re.escape("x")


    @functools.lru_cache(maxsize=None)
    def cached(n):
        """Square n (the decorator is dropped, as the paper's query)."""
        return n * n


    def plain(n):
        "One-quote docstring: not a seed."
        return n


    class Box:
        def method(self, x):
            """Methods are not top-level functions."""
            return x


    async def fetch(url):
        """Async functions count too."""
        return await get(url)
''').encode()


def test_candidates_are_top_level_triple_quoted_docstring_functions():
    found, stats = extract_functions(MODULE, "pkg/sub/mod.py")
    assert [f["name"] for f in found] == ["summarize", "cached", "fetch"]
    assert stats["top_level_functions"] == 4 and stats["with_docstring"] == 3
    cached = found[1]
    assert cached["content"].startswith("def cached(n):") and "lru_cache" not in cached["content"]
    assert cached["line"] == MODULE.decode().splitlines().index("def cached(n):") + 1


def test_file_imports_used_by_the_function_are_kept_and_made_absolute():
    (summarize, *_), _ = extract_functions(MODULE, "pkg/sub/mod.py")
    assert summarize["free_names"] == ["List", "OrderedDict", "Counter", "np", "SCALE", "json", "h", "sibling", "re"]
    assert summarize["file_imports"] == {
        "OrderedDict": ["from collections import OrderedDict"], "Counter": ["from collections import Counter"],
        "np": ["import numpy as np"], "json": ["import json"], "h": ["from pkg.common import helper as h"],
        "sibling": ["from pkg.sub import sibling"]}


def test_import_inference_prepends_file_imports_then_modules_then_typing():
    (summarize, *_), _ = extract_functions(MODULE, "pkg/sub/mod.py")
    inferred = infer_imports(summarize["content"], summarize["file_imports"], summarize["free_names"])
    from_file = [s for stmts in summarize["file_imports"].values() for s in stmts]
    assert set(inferred.added) == {"from typing import List", "import re", *from_file}
    header = inferred.content.split("\n\n\n")[0].splitlines()
    assert header == sorted(header, key=lambda s: (s.startswith("from "), s))  # imports first, then froms
    assert inferred.content.endswith(summarize["content"])
    # SCALE is a module constant no import provides: it stays undefined (Pyright will reject the seed).
    assert inferred.unresolved == ["SCALE"] == free_names(inferred.content)
    # Without the file's imports, the fallback rule alone finds modules and typing names (typing
    # has aliases named OrderedDict and Counter too).
    alone = infer_imports(summarize["content"])
    assert alone.added == ["from typing import List", "from typing import OrderedDict", "from typing import Counter",
                           "import json", "import re"]
    assert alone.unresolved == ["np", "SCALE", "h", "sibling"]


def test_free_names_follow_python_scoping():
    src = textwrap.dedent('''
        def f(a):
            """Doc."""
            import math
            total = math.fsum(a)
            def inner(y):
                return y + total + offset
            squares = [v * v for v in a]
            return inner(len(squares)), sorted(a, key=abs), Path(a)
    ''')
    assert free_names(src) == ["offset", "Path"]
    assert infer_imports(src).added == []  # neither is a module or a typing name


def test_relative_imports_beyond_the_top_package_are_dropped():
    assert import_bindings(["from ... import x"], package="pkg") == {}
    assert import_bindings(["from .a import b"], package="pkg.sub") == {"b": ["from pkg.sub.a import b"]}
    assert import_bindings(["import os.path"]) == {"os": ["import os.path"]}


def test_broken_functions_and_files_are_counted_not_raised():
    src = b'def ok(x):\n    """Fine."""\n    return x\n\ndef broken(x:\n    """Nope."""\n    return x\n'
    found, stats = extract_functions(src, "m.py")
    assert [f["name"] for f in found] == ["ok"]
    assert stats["top_level_functions"] >= 1
    py2 = b'def old(x):\n    """Python 2."""\n    print "hello"\n    return x\n'
    assert extract_functions(py2, "old.py")[0] == []
