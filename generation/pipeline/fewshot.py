"""SelfCodeAlign's prompt layout for S->C, C->I, S->I and I->R, shared by the generation stages.

Completion mode (the paper's): the stage's system text, then k examples, each `## Example i` + the
stage's prefix filled from the example + its gold suffix, then `## Example k+1` + the prefix filled
from the item, the whole right-stripped; the base model continues it. Shots are drawn per item
with `random.Random(seed + index)`, as the official script seeds `random` per item; in C->I the
same generator first draws the item's properties (category from a list where function
implementation appears twice, so 50/25/25; difficulty uniform), then the shots.

Chat mode (our deviation, for instruct models that do not continue the completion layout): the
same system text as a system message, each example as a user turn (its filled prefix, right-stripped)
and an assistant turn (its gold suffix), and the item's filled prefix as the last user turn. For
I->R, the `<instruction>`/`<response>`/`<tests>` tags are left out (SmolLM2-135M-Instruct never wrote
them back; see the README): the user turn is the instruction plus CHAT_TESTS_NOTE, the assistant turn
the example's response followed by its tests, and the tests are the answer's last python block.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from generation.prompts import FewShot, load_fewshot, parse_fewshot
from harness.errors import UserError

Mode = Literal["S->C", "C->I", "S->I", "I->R"]
Style = Literal["completion", "chat"]
MODES: tuple[Mode, ...] = ("S->C", "C->I", "S->I", "I->R")

PREFIX: dict[str, str] = {
    "S->C": "### Snippet\n{snippet}\n\n### Concepts\n",
    "C->I": "### Properties\n{property}\n\n### Task\n",
    "S->I": "### Snippet\n{snippet}\n\n### Task\n",
    "I->R": "<instruction>\n{instruction}\n</instruction>\n\n<response>\n",
}
STOP: dict[str, tuple[str, ...]] = {
    "S->C": ("## Example",),
    "C->I": ("## Example",),
    "S->I": ("## Example",),
    "I->R": ("## Example", "</tests>"),
}
CHAT_TESTS_NOTE = ("Write the solution in a ```python block, then test it: end with a second ```python block of "
                   "assert statements that call the solution.")
CHAT_IR_PREFIX = "{instruction}\n\n" + CHAT_TESTS_NOTE
# random.choice over this list gives the paper's 50% function / 25% class / 25% program split.
CATEGORIES = ("function implementation", "function implementation", "class implementation",
              "program implementation")
DIFFICULTIES = ("easy", "medium", "hard")


def parse_concepts(text: str) -> list[str]:
    """S->C output: comma-separated concepts, each stripped (empty ones dropped)."""
    return [c for c in (part.strip() for part in text.split(",")) if c]


@dataclass(frozen=True)
class Property:
    category: str
    language: str
    difficulty: str
    concepts: tuple[str, ...]

    def render(self) -> str:
        return (f"category: {self.category}\nlanguage: {self.language}\ndifficulty: {self.difficulty}\n"
                f"concepts: {', '.join(self.concepts)}")

    @classmethod
    def parse(cls, text: str) -> "Property | None":
        """The few-shot file's four `key: value` lines (category, language, difficulty, concepts)."""
        lines = text.strip().split("\n")
        if len(lines) != 4 or any(":" not in line for line in lines):
            return None
        category, language, difficulty, concepts = (line.split(":", 1)[1].strip() for line in lines)
        return cls(category, language, difficulty, tuple(c.strip() for c in concepts.split(",")))

    @classmethod
    def sample(cls, concepts: list[str], language: str, rng: random.Random) -> "Property":
        category = rng.choice(CATEGORIES)
        difficulty = rng.choice(DIFFICULTIES)
        return cls(category, language, difficulty, tuple(concepts))

    def to_dict(self) -> dict:
        return {"category": self.category, "language": self.language, "difficulty": self.difficulty}


@dataclass(frozen=True)
class Shot:
    """One few-shot example with every field the four stages use."""

    snippet: str
    property: Property
    instruction: str
    response: str
    tests: str

    def fields(self) -> dict[str, str]:
        return {"snippet": self.snippet, "property": self.property.render(), "instruction": self.instruction}

    def suffix(self, mode: Mode, style: Style = "completion") -> str:
        if mode == "S->C":
            return ", ".join(self.property.concepts)
        if mode in ("C->I", "S->I"):
            return self.instruction
        if style == "chat":
            return f"{self.response}\n\n{self.tests}"
        return f"{self.response}\n</response>\n\n<tests>\n{self.tests}\n</tests>"


class Prompts:
    """Builds stage prompts from a few-shot file (the official one by default)."""

    def __init__(self, fewshot: FewShot, where: str = "few-shot file"):
        missing = [m for m in MODES if m not in fewshot.systems]
        if missing:
            raise UserError(f"{where}: no '### System: {missing[0]}' section")
        self.systems = fewshot.systems
        self.shots: list[Shot] = []
        for i, ex in enumerate(fewshot.examples, 1):
            prop = Property.parse(ex["Property"])
            if prop is None:
                raise UserError(f"{where}: example {i}: [Property] must be four 'key: value' lines "
                                f"(category, language, difficulty, concepts)")
            self.shots.append(Shot(ex["Code"], prop, ex["Instruction"], ex["Response"], ex["Tests"]))

    @classmethod
    def load(cls, path: str | None = None) -> "Prompts":
        """The official few-shot file through the data layer, or a user's file of the same format."""
        if path is None:
            return cls(load_fewshot())
        file = Path(path)
        if not file.is_file():
            raise UserError(f"fewshot_file: {path}: file not found")
        return cls(parse_fewshot(file.read_text(), where=str(file)), where=str(file))

    def draw(self, k: int, rng: random.Random) -> list[int]:
        """Indices of k shots, drawn as the official script does (random.sample)."""
        if not 0 < k <= len(self.shots):
            raise UserError(f"num_fewshots: must be between 1 and {len(self.shots)} (the examples in the "
                            f"few-shot file), got {k}")
        return rng.sample(range(len(self.shots)), k)

    def build(self, mode: Mode, style: Style, shots: list[int], **fields: str) -> str | list[dict]:
        prefix = CHAT_IR_PREFIX if (mode, style) == ("I->R", "chat") else PREFIX[mode]
        examples = [(prefix.format(**self.shots[i].fields()), self.shots[i].suffix(mode, style)) for i in shots]
        item = prefix.format(**fields)
        if style == "completion":
            body = "\n\n".join(f"## Example {n}\n{p}{s}" for n, (p, s) in enumerate(examples, 1))
            return f"{self.systems[mode]}\n\n{body}\n\n## Example {len(examples) + 1}\n{item}".rstrip()
        messages = [{"role": "system", "content": self.systems[mode]}]
        for p, s in examples:
            messages += [{"role": "user", "content": p.rstrip()}, {"role": "assistant", "content": s}]
        messages.append({"role": "user", "content": item.rstrip()})
        return messages
