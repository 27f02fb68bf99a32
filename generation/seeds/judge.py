"""The optional docstring judge: the base model says Yes or No to "does this docstring describe the code?".

As the paper's last seed filter: 7 few-shot examples (shuffled per seed), the seed's code with its
docstring cut out and the docstring shown on its own, greedy decoding of at most 5 tokens up to
a newline, and Yes kept only when the answer says "yes" more often than "no" (a tie is No).
The examples and wording are ours, in a plain completion layout any base model can follow
(the official prompt imitated a GitHub issue thread for StarCoder2); `chat` mode sends the same
examples as chat turns, for instruct models.
"""

from __future__ import annotations

import ast
import random

from generation.seeds.extract import first_function, quiet_parse

QUESTION = ("Could someone re-implement the function from the description alone, and does the description "
            "match what the code does? Answer Yes or No, then say why.")

# (function with its docstring, answer, reason): 4 Yes and 3 No.
FEWSHOTS: tuple[tuple[str, str, str], ...] = (
    ('''def clamp(value, low, high):
    """Return value limited to the closed range [low, high]."""
    return max(low, min(value, high))''',
     "Yes", "The description states exactly what is returned, which is all the function does."),
    ('''def process(items):
    """Helper for the main loop."""
    out = []
    for item in items:
        if item.get("active"):
            out.append(item["id"])
    return out''',
     "No", "It names no behaviour: nothing says that inactive items are skipped or that ids are collected."),
    ('''def word_frequencies(text):
    """Count how often each word occurs in text.

    Words are separated by whitespace and compared case-insensitively.
    Returns a dict mapping each lower-cased word to its count.
    """
    counts = {}
    for word in text.lower().split():
        counts[word] = counts.get(word, 0) + 1
    return counts''',
     "Yes", "Splitting, case folding and the shape of the result are all described."),
    ('''def average(numbers):
    """Return the median of a list of numbers."""
    return sum(numbers) / len(numbers)''',
     "No", "The description promises the median but the code computes the mean."),
    ('''def parse_version(text):
    """Split a dotted version string such as "1.10.2" into a tuple of ints."""
    return tuple(int(part) for part in text.split("."))''',
     "Yes", "The input format and the output type are given, with an example."),
    ('''def load(path, cache={}):
    """Load the file.

    See the wiki for details.
    """
    if path not in cache:
        with open(path) as fh:
            cache[path] = [line.rstrip("\\n").split("\\t") for line in fh if line.strip()]
    return cache[path]''',
     "No", "Caching, tab-separated parsing and skipping blank lines are all left out."),
    ('''def is_leap_year(year):
    """Tell whether year is a leap year in the Gregorian calendar.

    A year is a leap year if it is divisible by 4, except centuries,
    which must also be divisible by 400.
    """
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)''',
     "Yes", "The rule is spelled out completely, so the one-line implementation follows from it."),
)


def split_docstring(code: str) -> tuple[str, str]:
    """(docstring, code with the docstring's lines removed) for the first top-level function."""
    fn = first_function(quiet_parse(code))
    if fn is None:
        raise ValueError("no top-level function")
    doc = ast.get_docstring(fn, clean=True) or ""
    first = fn.body[0]
    lines = code.split("\n")
    kept = lines[:first.lineno - 1] + lines[first.end_lineno or first.lineno:]
    return doc, "\n".join(kept).rstrip()


def _block(code: str) -> str:
    doc, body = split_docstring(code)
    return f"### Function\n```python\n{body}\n```\n\n### Description\n{doc}\n\n### Question\n{QUESTION}\n\n### Answer\n"


def _shots(key: str, seed: int) -> list[tuple[str, str, str]]:
    shots = list(FEWSHOTS)
    random.Random(f"{seed}:{key}").shuffle(shots)
    return shots


def completion_prompt(code: str, key: str, seed: int = 42) -> str:
    parts = [_block(c) + f"{answer}\n\n{why}\n\n" for c, answer, why in _shots(key, seed)]
    return "".join(parts) + _block(code)


def chat_prompt(code: str, key: str, seed: int = 42) -> list[dict]:
    messages = [{"role": "system", "content": "You review Python docstrings. " + QUESTION}]
    for c, answer, why in _shots(key, seed):
        messages += [{"role": "user", "content": _block(c).removesuffix("### Answer\n").rstrip()},
                     {"role": "assistant", "content": f"{answer}. {why}"}]
    messages.append({"role": "user", "content": _block(code).removesuffix("### Answer\n").rstrip()})
    return messages


def verdict(answer: str) -> bool:
    """Yes only when the answer says yes more often than no (the official tie-break is No)."""
    lower = answer.lower()
    return lower.count("yes") > lower.count("no")
