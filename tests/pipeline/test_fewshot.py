"""The official prompt layout, shot sampling and property sampling, on the official few-shot file."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from generation.pipeline.fewshot import CATEGORIES, CHAT_TESTS_NOTE, Prompts, Property, parse_concepts
from harness.errors import UserError


@pytest.fixture(scope="module")
def prompts():
    return Prompts.load()


def test_official_file_parsed_into_21_shots_with_properties(prompts):
    assert len(prompts.shots) == 21
    assert Counter(s.property.category for s in prompts.shots) == {
        "function implementation": 15, "program implementation": 4, "class implementation": 2}
    assert all(s.property.language == "Python" for s in prompts.shots)
    assert set(prompts.systems) == {"S->C", "C->I", "I->R", "S->I"}


def test_completion_layout_is_system_examples_then_the_item_right_stripped(prompts):
    shots = [3, 0]
    prompt = prompts.build("S->C", "completion", shots, snippet="def f(x):\n    return x  \n")
    a, b = prompts.shots[3], prompts.shots[0]
    expected = (f"{prompts.systems['S->C']}\n\n"
                f"## Example 1\n### Snippet\n{a.snippet}\n\n### Concepts\n{', '.join(a.property.concepts)}\n\n"
                f"## Example 2\n### Snippet\n{b.snippet}\n\n### Concepts\n{', '.join(b.property.concepts)}\n\n"
                f"## Example 3\n### Snippet\ndef f(x):\n    return x  \n\n\n### Concepts")
    assert prompt == expected


def test_stage_prefixes_and_gold_suffixes(prompts):
    shot = prompts.shots[0]
    ci = prompts.build("C->I", "completion", [0], property="category: x\nlanguage: Python\ndifficulty: easy\nconcepts: a")
    assert f"## Example 1\n### Properties\n{shot.property.render()}\n\n### Task\n{shot.instruction}\n\n" in ci
    assert ci.endswith("## Example 2\n### Properties\ncategory: x\nlanguage: Python\ndifficulty: easy\nconcepts: a"
                       "\n\n### Task")
    si = prompts.build("S->I", "completion", [0], snippet="s")
    assert si.startswith(prompts.systems["S->I"] + "\n\n## Example 1\n### Snippet\n")
    assert si.endswith("## Example 2\n### Snippet\ns\n\n### Task")
    ir = prompts.build("I->R", "completion", [0], instruction="Do it.")
    assert (f"<instruction>\n{shot.instruction}\n</instruction>\n\n<response>\n{shot.response}\n</response>\n\n"
            f"<tests>\n{shot.tests}\n</tests>\n\n## Example 2\n") in ir
    assert ir.endswith("## Example 2\n<instruction>\nDo it.\n</instruction>\n\n<response>")


def test_property_renders_as_the_file_writes_it(prompts):
    shot = prompts.shots[0]
    assert shot.property.render() == ("category: function implementation\nlanguage: Python\ndifficulty: medium\n"
                                      "concepts: 5-bit chunk encoding with bitwise shifts, ASCII value "
                                      "manipulation, continuation bit signaling")
    assert Property.parse("category: a\nlanguage: b\ndifficulty: c") is None


def test_shots_are_drawn_per_item_with_a_seeded_rng_like_random_sample(prompts):
    # The official script: random.seed(seed + index), then random.sample(examples, k).
    random.seed(3407 + 5)
    official = random.sample(range(21), 8)
    assert prompts.draw(8, random.Random(3407 + 5)) == official
    assert prompts.draw(8, random.Random(3407 + 6)) != official
    with pytest.raises(UserError, match="num_fewshots"):
        prompts.draw(22, random.Random(0))


def test_ci_properties_come_first_from_the_same_generator_then_the_shots(prompts):
    rng = random.Random(3407)
    prop = Property.sample(["recursion"], "Python", rng)
    shots = prompts.draw(8, rng)
    random.seed(3407)
    category = random.choice(["function implementation", "function implementation", "class implementation",
                              "program implementation"])
    difficulty = random.choice(["easy", "medium", "hard"])
    assert (prop.category, prop.difficulty) == (category, difficulty)
    assert shots == random.sample(range(21), 8)


def test_category_split_is_50_25_25_and_difficulty_uniform():
    n = 6000
    props = [Property.sample(["c"], "Python", random.Random(i)) for i in range(n)]
    cats = Counter(p.category for p in props)
    assert abs(cats["function implementation"] / n - 0.5) < 0.03
    assert abs(cats["class implementation"] / n - 0.25) < 0.03
    assert abs(cats["program implementation"] / n - 0.25) < 0.03
    diffs = Counter(p.difficulty for p in props)
    assert all(abs(diffs[d] / n - 1 / 3) < 0.03 for d in ("easy", "medium", "hard"))
    assert CATEGORIES.count("function implementation") == 2


def test_chat_mode_turns_carry_the_same_text(prompts):
    messages = prompts.build("S->C", "chat", [2], snippet="def f(): pass")
    shot = prompts.shots[2]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[0]["content"] == prompts.systems["S->C"]
    assert messages[1]["content"] == f"### Snippet\n{shot.snippet}\n\n### Concepts"
    assert messages[2]["content"] == ", ".join(shot.property.concepts)
    assert messages[3]["content"] == "### Snippet\ndef f(): pass\n\n### Concepts"


def test_chat_mode_responses_drop_the_tags_and_ask_for_a_final_block_of_asserts(prompts):
    messages = prompts.build("I->R", "chat", [2], instruction="Do it.")
    shot = prompts.shots[2]
    assert messages[0]["content"] == prompts.systems["I->R"]
    assert messages[1]["content"] == f"{shot.instruction}\n\n{CHAT_TESTS_NOTE}"
    assert messages[2]["content"] == f"{shot.response}\n\n{shot.tests}"
    assert messages[3]["content"] == f"Do it.\n\n{CHAT_TESTS_NOTE}"
    assert "<tests>" not in json.dumps(messages)


def test_a_user_fewshot_file_of_the_same_format(tmp_path):
    systems = "".join(f"### System: {m}\nsystem text for {m}\n" for m in ("I->R", "C->I", "S->C", "S->I"))
    example = ("### Example {i}\n[Code]\ndef f{i}(): pass\n[Property]\ncategory: function implementation\n"
               "language: Python\ndifficulty: easy\nconcepts: a{i}, b{i}\n[Instruction]\nWrite f{i}.\n"
               "[Response]\nHere.\n[Tests]\n```python\nassert f{i}() is None\n```\n")
    path = tmp_path / "mine.txt"
    path.write_text(systems + "".join(example.format(i=i) for i in (1, 2)))
    mine = Prompts.load(str(path))
    assert len(mine.shots) == 2
    assert mine.build("S->C", "completion", [1], snippet="x") == (
        "system text for S->C\n\n## Example 1\n### Snippet\ndef f2(): pass\n\n### Concepts\na2, b2\n\n"
        "## Example 2\n### Snippet\nx\n\n### Concepts")
    path.write_text(systems.replace("### System: S->I\nsystem text for S->I\n", "") + example.format(i=1))
    with pytest.raises(UserError, match="S->I"):
        Prompts.load(str(path))
    with pytest.raises(UserError, match="not found"):
        Prompts.load(str(tmp_path / "missing.txt"))


def test_concepts_are_split_on_commas():
    assert parse_concepts(" recursion, memoization ,\n dynamic programming\n") == [
        "recursion", "memoization", "dynamic programming"]
    assert parse_concepts(" , \n") == []
