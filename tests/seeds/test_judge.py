"""The docstring judge's prompt (7 shuffled shots, docstring shown apart from the code) and its verdict rule."""

from __future__ import annotations

import textwrap

from generation.seeds import judge

SEED = textwrap.dedent('''
    def distance(p, q):
        """Euclidean distance between two (x, y) points."""
        return ((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2) ** 0.5
''').strip()


def test_completion_prompt_has_seven_shots_then_the_seed_without_its_docstring():
    prompt = judge.completion_prompt(SEED, "seed-1", seed=42)
    blocks = prompt.split("### Function\n")[1:]
    assert len(blocks) == 8
    answers = [b.split("### Answer\n")[1].split("\n")[0] for b in blocks[:7]]
    assert sorted(answers) == ["No"] * 3 + ["Yes"] * 4
    last = blocks[-1]
    assert last.endswith("### Answer\n")
    code, description = last.split("### Description\n")
    assert '"""' not in code and "return ((p[0]" in code
    assert description.startswith("Euclidean distance between two (x, y) points.")


def test_shots_are_shuffled_per_seed_deterministically():
    first = judge.completion_prompt(SEED, "seed-1", seed=42)
    assert first == judge.completion_prompt(SEED, "seed-1", seed=42)
    orders = {judge.completion_prompt(SEED, f"seed-{i}", seed=42) for i in range(6)}
    assert len(orders) > 1


def test_chat_prompt_carries_the_same_shots_as_turns():
    messages = judge.chat_prompt(SEED, "seed-1")
    assert [m["role"] for m in messages] == ["system"] + ["user", "assistant"] * 7 + ["user"]
    assert all(m["content"].split(".")[0] in ("Yes", "No") for m in messages if m["role"] == "assistant")
    assert "Euclidean distance" in messages[-1]["content"]


def test_verdict_counts_yes_against_no_and_a_tie_is_no():
    assert judge.verdict(" Yes")
    assert judge.verdict("yes, yes")
    assert not judge.verdict("No")
    assert not judge.verdict("Yes or no")
    assert not judge.verdict("maybe")


def test_split_docstring_keeps_everything_else():
    doc, code = judge.split_docstring('import math\n\n\ndef f(x):\n    """Two\n    lines."""\n    return math.sqrt(x)\n')
    assert doc == "Two\nlines."
    assert code == "import math\n\n\ndef f(x):\n    return math.sqrt(x)"
