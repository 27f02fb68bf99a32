"""A small SFT dataset of our own: short Python tasks with solutions, in the pipeline's record layout."""

from __future__ import annotations

import json
from pathlib import Path

# (instruction, solution code) pairs; responses wrap the code the way SelfCodeAlign's responses do.
TASKS = [
    ("Write a function `add(a, b)` that returns the sum of two numbers.",
     "def add(a, b):\n    return a + b"),
    ("Write a function `is_even(n)` that tells whether an integer is even.",
     "def is_even(n):\n    return n % 2 == 0"),
    ("Write a function `reverse_string(s)` that returns `s` reversed.",
     "def reverse_string(s):\n    return s[::-1]"),
    ("Write a function `factorial(n)` for a non-negative integer `n`.",
     "def factorial(n):\n    result = 1\n    for k in range(2, n + 1):\n        result *= k\n    return result"),
    ("Write a function `count_vowels(text)` that counts the vowels in a string.",
     "def count_vowels(text):\n    return sum(ch in 'aeiouAEIOU' for ch in text)"),
    ("Write a function `maximum(values)` that returns the largest item of a non-empty list without max().",
     "def maximum(values):\n    best = values[0]\n    for v in values[1:]:\n        if v > best:\n            best = v\n"
     "    return best"),
    ("Write a function `is_palindrome(s)` that ignores case.",
     "def is_palindrome(s):\n    s = s.lower()\n    return s == s[::-1]"),
    ("Write a function `fib(n)` returning the n-th Fibonacci number, with fib(0) == 0.",
     "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a"),
    ("Write a function `square_all(xs)` that squares every number of a list.",
     "def square_all(xs):\n    return [x * x for x in xs]"),
    ("Write a function `unique(items)` that removes duplicates and keeps the first occurrence order.",
     "def unique(items):\n    seen = set()\n    out = []\n    for item in items:\n        if item not in seen:\n"
     "            seen.add(item)\n            out.append(item)\n    return out"),
    ("Write a function `word_count(text)` that returns how many whitespace-separated words a string has.",
     "def word_count(text):\n    return len(text.split())"),
    ("Write a function `celsius_to_fahrenheit(c)`.",
     "def celsius_to_fahrenheit(c):\n    return c * 9 / 5 + 32"),
    ("Write a function `gcd(a, b)` using Euclid's algorithm.",
     "def gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return abs(a)"),
    ("Write a function `is_prime(n)` for integers.",
     "def is_prime(n):\n    if n < 2:\n        return False\n    k = 2\n    while k * k <= n:\n        if n % k == 0:\n"
     "            return False\n        k += 1\n    return True"),
    ("Write a function `flatten(nested)` that flattens one level of a list of lists.",
     "def flatten(nested):\n    return [x for inner in nested for x in inner]"),
    ("Write a function `char_frequency(s)` returning a dict from character to count.",
     "def char_frequency(s):\n    counts = {}\n    for ch in s:\n        counts[ch] = counts.get(ch, 0) + 1\n"
     "    return counts"),
    ("Write a function `sum_digits(n)` that adds the decimal digits of a non-negative integer.",
     "def sum_digits(n):\n    return sum(int(d) for d in str(n))"),
    ("Write a function `clamp(x, low, high)` that limits `x` to the range [low, high].",
     "def clamp(x, low, high):\n    return max(low, min(x, high))"),
    ("Write a function `merge_sorted(a, b)` that merges two sorted lists into one sorted list.",
     "def merge_sorted(a, b):\n    out, i, j = [], 0, 0\n    while i < len(a) and j < len(b):\n        if a[i] <= b[j]:\n"
     "            out.append(a[i])\n            i += 1\n        else:\n            out.append(b[j])\n            j += 1\n"
     "    return out + a[i:] + b[j:]"),
    ("Write a function `capitalize_words(s)` that capitalizes the first letter of every word.",
     "def capitalize_words(s):\n    return ' '.join(w[:1].upper() + w[1:] for w in s.split(' '))"),
    ("Write a function `mean(xs)` that returns the arithmetic mean of a non-empty list.",
     "def mean(xs):\n    return sum(xs) / len(xs)"),
    ("Write a function `binary_search(xs, target)` returning the index of target in a sorted list or -1.",
     "def binary_search(xs, target):\n    lo, hi = 0, len(xs) - 1\n    while lo <= hi:\n        mid = (lo + hi) // 2\n"
     "        if xs[mid] == target:\n            return mid\n        if xs[mid] < target:\n            lo = mid + 1\n"
     "        else:\n            hi = mid - 1\n    return -1"),
    ("Write a function `chunks(xs, size)` that splits a list into pieces of at most `size` items.",
     "def chunks(xs, size):\n    return [xs[i:i + size] for i in range(0, len(xs), size)]"),
    ("Write a function `count_words(text)` mapping each lowercase word to how often it occurs.",
     "def count_words(text):\n    counts = {}\n    for word in text.lower().split():\n"
     "        counts[word] = counts.get(word, 0) + 1\n    return counts"),
    ("Write a function `transpose(matrix)` for a list of equal-length rows.",
     "def transpose(matrix):\n    return [list(row) for row in zip(*matrix)]"),
    ("Write a function `running_sum(xs)` returning the prefix sums of a list.",
     "def running_sum(xs):\n    out, total = [], 0\n    for x in xs:\n        total += x\n        out.append(total)\n"
     "    return out"),
    ("Write a function `is_anagram(a, b)` that tells whether two strings are anagrams.",
     "def is_anagram(a, b):\n    return sorted(a) == sorted(b)"),
    ("Write a function `second_largest(xs)` returning the second largest distinct value.",
     "def second_largest(xs):\n    return sorted(set(xs))[-2]"),
    ("Write a function `to_binary(n)` returning the binary digits of a non-negative integer as a string.",
     "def to_binary(n):\n    return bin(n)[2:]"),
    ("Write a function `remove_vowels(s)`.",
     "def remove_vowels(s):\n    return ''.join(ch for ch in s if ch.lower() not in 'aeiou')"),
    ("Write a function `power_set(xs)` returning every subset of a list.",
     "def power_set(xs):\n    subsets = [[]]\n    for x in xs:\n        subsets += [s + [x] for s in subsets]\n"
     "    return subsets"),
    ("Write a function `rotate(xs, k)` that rotates a list right by k places.",
     "def rotate(xs, k):\n    if not xs:\n        return xs\n    k %= len(xs)\n    return xs[-k:] + xs[:-k]"),
]


def response(code: str) -> str:
    return f"Here is a solution:\n\n```python\n{code}\n```"


def records(n: int | None = None) -> list[dict]:
    """Pipeline-style SFT records: id, instruction, response, and TRL's prompt/completion and messages."""
    out = []
    for i, (instruction, code) in enumerate(TASKS[:n]):
        answer = response(code)
        out.append({
            "id": f"task-{i}", "instruction": instruction, "response": answer,
            "prompt": [{"role": "user", "content": instruction}],
            "completion": [{"role": "assistant", "content": answer}],
            "messages": [{"role": "user", "content": instruction}, {"role": "assistant", "content": answer}],
        })
    return out


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
