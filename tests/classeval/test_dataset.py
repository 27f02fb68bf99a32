"""ClassEval's tasks, data quirks, holistic prompts, code extraction and sample layouts (no grading)."""

from __future__ import annotations

import json

import pytest

from benchmarks.classeval import dataset, prompts, samples
from harness.errors import UserError
from tests.evalplus.conftest import needs_data

pytestmark = needs_data


@pytest.fixture(scope="module")
def data():
    return dataset.load()


def test_hundred_tasks_with_their_test_classes_and_quirks(data):
    assert len(data.tasks) == 100
    assert sum(len(t.method_tests) for t in data.tasks.values()) == 410  # the methods' own test classes
    # The official evaluation counts every listed test class; two are quirks, one of them not run at all.
    assert data.n_listed == 502 and sum(len(t.test_classes) for t in data.tasks.values()) == 501
    assert data.tasks["ClassEval_97"].quirks == {" Words2NumbersTestMain": "whitespace in name"}
    assert "Words2NumbersTestMain" in data.tasks["ClassEval_97"].test_classes
    assert data.tasks["ClassEval_69"].quirks == {"TestPDFHandler": "no tests"}
    assert "TestPDFHandler" not in data.tasks["ClassEval_69"].test_classes
    assert {tid for tid, t in data.tasks.items() if t.quirks} == {"ClassEval_69", "ClassEval_97"}
    task = data.tasks["ClassEval_1"]  # its last test class exercises the whole class, no one method
    assert task.is_method_test("AreaCalculatorTestCalculateCircleArea")
    assert not task.is_method_test("AreaCalculatorTestCalculateMain")


def test_a_listed_test_class_the_test_code_lacks_is_one_line(tmp_path):
    from harness import data as data_layer

    rows = data_layer.read_json(data_layer.fetch("classeval"))[:1]
    rows[0]["test_classes"].append("NoSuchTest")
    path = tmp_path / "ce.json"
    path.write_text(json.dumps(rows))
    with pytest.raises(UserError, match=r"ce.json: task \[0\] \(ClassEval_0\): test class 'NoSuchTest' is not defined"):
        dataset.load(path)


def test_holistic_prompts(data):
    task = data.tasks["ClassEval_3"]
    base = prompts.build_prompt(task, "base")
    assert base.prompt == task.skeleton and base.prefix == task.skeleton and "\nclass " in base.stop
    chat = prompts.build_prompt(task, "instruct")
    assert chat.prompt == [{"role": "user", "content": f"Please complete the class {task.class_name} in the "
                                                       f"following code.\n{task.skeleton}"}]


def test_instruct_prompt_uses_the_chat_template(data, tiny_model):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    task = data.tasks["ClassEval_3"]
    rendered = prompts.build_prompt(task, "instruct", tokenizer).prompt
    assert task.skeleton in rendered and rendered.rstrip().endswith("assistant")


@pytest.mark.parametrize("text, code", [
    ("Sure:\n```python\nclass A:\n    pass\n```\nand ```python\nclass B: pass```", "\nclass A:\n    pass\n"),
    ("```python\nclass A:\n    x = 1\n", "\nclass A:\n    x = 1\n"),  # cut off before the closing fence
    ("```\nclass A:\n    pass\n```", "\nclass A:\n    pass\n"),
    ("Here it is.\nimport math\n\nclass A:\n    y = math.pi\n", "import math\nclass A:\n    y = math.pi\n"),
])
def test_code_is_extracted_as_the_official_evaluation_does(text, code):
    assert prompts.extract_code(text) == code


def test_sample_layouts(data, tmp_path):
    task = data.tasks["ClassEval_3"]
    rows = [{"task_id": "ClassEval_3", "solution": "S"}, {"task_id": "ClassEval_3", "completion": "C"},
            {"task_id": "ClassEval_3", "output": "```python\nclass X: pass\n```"}]
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    got = samples.load(path, data)
    assert [s.index for s in got] == [0, 1, 2]
    assert [s.solution for s in got] == ["S", task.skeleton + "C", task.imports + "\n\nclass X: pass\n"]
    official = tmp_path / "model_output.json"
    official.write_text(json.dumps([{"task_id": "ClassEval_3", "predict": ["```python\nclass Y: pass\n```", "z"]}]))
    assert [s.solution for s in samples.load(official, data)] == [task.imports + "\n\nclass Y: pass\n",
                                                                   task.imports + "\n"]  # no class: nothing kept
    path.write_text(json.dumps({"task_id": "ClassEval_300", "solution": "x"}) + "\n")
    with pytest.raises(UserError, match=r"s.jsonl:1: unknown task id 'ClassEval_300' for ClassEval .* \(did you mean"):
        samples.load(path, data)
    path.write_text(json.dumps({"task_id": "ClassEval_3"}) + "\n")
    with pytest.raises(UserError, match=r"s.jsonl:1: missing field 'solution', 'completion' or 'output'"):
        samples.load(path, data)
