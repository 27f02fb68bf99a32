"""Fenced code blocks and the response/tests split: the one parser the execute and select stages share.

Semantics follow the official pipeline's helpers: a block opens at three backticks, an optional
language tag runs to the end of that line, the block ends at the next three backticks, and every
block's text is stripped. An unclosed last block is ignored.

Where the tests start depends on how I->R was prompted:
- completion (the paper's layout): at `</response>\n\n<tests>`, which must occur exactly once;
- chat (our variant for instruct models, which asks for the solution and then a python block of
  asserts): at the last python block, which must not be the only one.
"""

from __future__ import annotations

from dataclasses import dataclass

FENCE = "```"
# The I->R gold suffix puts this between the response and its tests.
RESPONSE_TEST_SPLIT = "</response>\n\n<tests>"


@dataclass(frozen=True)
class Block:
    tag: str  # language tag as written ("" when none)
    code: str  # stripped content
    start: int  # offset of the content in the text
    fence: int  # offset of the opening backticks


def find_blocks(text: str, tag: str | None = None) -> list[Block]:
    """Every fenced block in text, in order; with `tag`, only blocks whose tag matches (case-insensitive)."""
    blocks: list[Block] = []
    pos = 0
    while True:
        opening = text.find(FENCE, pos)
        if opening < 0:
            return blocks
        content = opening + len(FENCE)
        line_end = text.find("\n", content)
        if line_end < 0:
            line_end = content
        found_tag = text[content:line_end].strip()
        if found_tag:
            content = line_end + 1
        closing = text.find(FENCE, content)
        if closing < 0:
            return blocks
        if tag is None or found_tag.lower() == tag.lower():
            blocks.append(Block(found_tag, text[content:closing].strip(), content, opening))
        pos = closing + len(FENCE)


def python_blocks(text: str) -> list[str]:
    return [b.code for b in find_blocks(text, "python")]


def tests_start(text: str, style: str = "completion") -> int | None:
    """Offset where the tests begin (see the module docstring), or None when the text has no such split."""
    if style == "chat":
        blocks = find_blocks(text, "python")
        return blocks[-1].fence if len(blocks) >= 2 else None
    at = text.find(RESPONSE_TEST_SPLIT)
    if at < 0 or text.find(RESPONSE_TEST_SPLIT, at + 1) >= 0:
        return None
    return at


def split_response_tests(text: str, style: str = "completion") -> tuple[str, str] | None:
    """(response, tests), both stripped, or None when the text does not split (see tests_start)."""
    at = tests_start(text, style)
    if at is None:
        return None
    tests = text[at:].removeprefix(RESPONSE_TEST_SPLIT) if style != "chat" else text[at:]
    return text[:at].strip(), tests.strip()
