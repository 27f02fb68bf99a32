"""Decontamination: does a text contain a benchmark's prompt text or solution?

The paper's rule: a seed (or generated sample) is contaminated when it contains, as an exact
substring, a HumanEval or MBPP docstring or canonical solution (HumanEval's four trivial solutions
such as `return x + y` excepted). Beyond it we:
- compare with every run of whitespace collapsed to one space (on by default), so a re-indented or
  re-wrapped copy is caught too;
- take HumanEval from HumanEval+ and MBPP from MBPP+ (the problems the harness grades, where the
  paper read MBPP's sanitized train split) and add MBPP+'s test asserts;
- cover the other benchmarks of the data lock the harness evaluates: EvoEval (all seven sets:
  docstrings and canonical solutions), ClassEval (class and method docstrings, method solutions)
  and CRUXEval (its functions);
- let later benchmarks (LiveCodeBench...) plug in with `register(name, provider)`.

Matching is fast without a C automaton: each benchmark string of three or more words is indexed
by its rarest interior word, which any text containing the string must hold as a whole word (and
a two-word string by the first letters of its second word, which must start a word of the text),
so a text is compared only against the few strings whose anchor it contains.
Benchmark data is read through the data layer, lazily, on the first `from_benchmarks` call.
"""

from __future__ import annotations

import ast
import difflib
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence

from harness.errors import UserError

Provider = Callable[[], Iterable[tuple[str, str]]]

# The official filter keeps these HumanEval solutions: too generic to signal contamination. We skip
# them in every benchmark (EvoEval's concise set reuses them).
GENERIC_SOLUTIONS = ("return x + y", "return len(string)", "return n**2", 'return " ".join(strings)')

_PREFIX = 4  # letters of a two-word string's second word that index it

EVOEVAL_SETS = ("combine", "concise", "creative", "difficult", "subtle", "tool_use", "verbose")


def _docstring(code: str, name: str | None = None) -> str | None:
    """The docstring of function `name` in code (or of its last function), else of the module."""
    try:
        with warnings.catch_warnings():  # benchmark prompts hold invalid escapes such as "\d"
            warnings.simplefilter("ignore")
            tree = ast.parse(code)
    except SyntaxError:
        return None
    funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    chosen = [f for f in funcs if f.name == name] or funcs[-1:]
    for node in chosen:
        doc = ast.get_docstring(node)
        if doc:
            return doc
    return ast.get_docstring(tree)


def _evalplus_rows(name: str) -> Iterator[dict]:
    from benchmarks.evalplus.dataset import DATA_NAMES, VERSIONS
    from harness import data

    # The raw release file: evalplus's loader would also deserialize every test input (~20 s for MBPP+).
    return data.iter_jsonl(data.fetch(DATA_NAMES[name], VERSIONS[name][0]))


def humaneval_texts() -> Iterator[tuple[str, str]]:
    for row in _evalplus_rows("humaneval"):
        doc = _docstring(row["prompt"], row["entry_point"])
        if doc:
            yield f"{row['task_id']}:docstring", doc
        yield f"{row['task_id']}:canonical_solution", row["canonical_solution"]


def mbpp_texts() -> Iterator[tuple[str, str]]:
    for row in _evalplus_rows("mbpp"):
        doc = _docstring(row["prompt"]) or row["prompt"]
        description = "\n".join(l for l in doc.splitlines() if not l.lstrip().startswith("assert ")).strip()
        if description:
            yield f"{row['task_id']}:docstring", description
        yield f"{row['task_id']}:canonical_solution", row["canonical_solution"]
        asserts = [l.strip() for l in row.get("assertion", "").splitlines() if l.strip().startswith("assert ")]
        for k, line in enumerate(asserts):
            yield f"{row['task_id']}:test:{k}", line


def evoeval_texts() -> Iterator[tuple[str, str]]:
    from harness import data

    for subset in EVOEVAL_SETS:
        for row in data.iter_jsonl(data.fetch(f"evoeval_{subset}")):
            task = f"{subset}/{row['task_id']}"
            doc = _docstring(row["prompt"], row.get("entry_point"))
            if doc:
                yield f"{task}:docstring", doc
            yield f"{task}:canonical_solution", row["canonical_solution"]


def classeval_texts() -> Iterator[tuple[str, str]]:
    from harness import data

    for row in data.read_json(data.fetch("classeval")):
        task = row["task_id"]
        doc = _docstring(f"class C:\n{row['class_description']}\n    pass\n")
        if doc:
            yield f"{task}:docstring", doc
        for method in row["methods_info"]:
            name = method["method_name"]
            doc = _docstring(method["method_description"].strip() + "\n    pass\n", name)
            if doc:
                yield f"{task}:{name}:docstring", doc
            yield f"{task}:{name}:solution", method["solution_code"]


def cruxeval_texts() -> Iterator[tuple[str, str]]:
    from harness import data

    for row in data.iter_jsonl(data.fetch("cruxeval")):
        yield f"{row['id']}:code", row["code"]


_PROVIDERS: dict[str, Provider] = {
    "humaneval": humaneval_texts,
    "mbpp": mbpp_texts,
    "evoeval": evoeval_texts,
    "classeval": classeval_texts,
    "cruxeval": cruxeval_texts,
}
# Every benchmark the harness evaluates. A list on purpose: register() appends to it, so a default
# argument of from_benchmarks() sees benchmarks registered later.
DEFAULT_BENCHMARKS: list[str] = list(_PROVIDERS)


def register(name: str, provider: Provider, *, default: bool = True) -> None:
    """Benchmarks added later (LiveCodeBench, EvoEval, ClassEval, CRUXEval) register (id, text) providers.

    With default=True the benchmark joins DEFAULT_BENCHMARKS, so decontamination covers it by default.
    """
    _PROVIDERS[name] = provider
    if default and name not in DEFAULT_BENCHMARKS:
        DEFAULT_BENCHMARKS.append(name)


def registered() -> list[str]:
    return list(_PROVIDERS)


def normalize(text: str) -> str:
    return " ".join(text.split())


class Contamination:
    """Benchmark strings indexed for fast exact-substring search."""

    def __init__(self, items: Iterable[tuple[str, str]], *, normalize_whitespace: bool = True):
        self.normalize_whitespace = normalize_whitespace
        self.ids: list[str] = []
        self.strings: list[str] = []
        seen = {normalize(s) if normalize_whitespace else s for s in GENERIC_SOLUTIONS}
        for item_id, text in items:
            s = normalize(text) if normalize_whitespace else text.strip()
            if s and s not in seen:
                seen.add(s)
                self.ids.append(item_id)
                self.strings.append(s)
        words = [s.split() for s in self.strings]
        frequency = Counter(w for ws in words for w in set(ws[1:-1]))
        self._by_anchor: dict[str, list[int]] = {}
        # Two words: the second starts a word of the text, so its first letters anchor it.
        self._by_prefix: dict[str, list[int]] = {}
        self._short: list[int] = []  # the rest (one word, or a short second word): always compared
        for index, ws in enumerate(words):
            interior = ws[1:-1]
            if interior:
                anchor = min(interior, key=lambda w: (frequency[w], -len(w), w))
                self._by_anchor.setdefault(anchor, []).append(index)
            elif len(ws) == 2 and len(ws[1]) >= _PREFIX:
                self._by_prefix.setdefault(ws[1][:_PREFIX], []).append(index)
            else:
                self._short.append(index)
        self._anchors = frozenset(self._by_anchor)
        self._prefixes = frozenset(self._by_prefix)

    @classmethod
    def from_benchmarks(cls, names: Sequence[str] = DEFAULT_BENCHMARKS, *,
                        normalize_whitespace: bool = True) -> "Contamination":
        items: list[tuple[str, str]] = []
        for name in names:
            provider = _PROVIDERS.get(name)
            if provider is None:
                close = difflib.get_close_matches(name, list(_PROVIDERS), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else f" (registered: {', '.join(_PROVIDERS)})"
                raise UserError(f"decontamination: unknown benchmark '{name}'{hint}")
            items.extend((f"{name}:{item_id}", text) for item_id, text in provider())
        return cls(items, normalize_whitespace=normalize_whitespace)

    def __len__(self) -> int:
        return len(self.strings)

    def _candidates(self, text: str) -> list[int]:
        found = list(self._short)
        words = set(text.split())
        for word in words & self._anchors:  # set intersection runs in C; few words are anchors
            found.extend(self._by_anchor[word])
        if self._by_prefix:
            for prefix in {w[:_PREFIX] for w in words} & self._prefixes:
                found.extend(self._by_prefix[prefix])
        return sorted(found)

    def find(self, text: str) -> str | None:  # e.g. "humaneval:HumanEval/12:canonical_solution", None if clean
        """The id of the first benchmark string (in benchmark order) that text contains, else None."""
        haystack = normalize(text) if self.normalize_whitespace else text
        for index in self._candidates(haystack):
            if self.strings[index] in haystack:
                return self.ids[index]
        return None

    def find_all(self, text: str) -> list[str]:
        """Every benchmark string id that text contains, in benchmark order."""
        haystack = normalize(text) if self.normalize_whitespace else text
        return [self.ids[i] for i in self._candidates(haystack) if self.strings[i] in haystack]
