"""Fenced code blocks and the response/tests split: the one parser the execute and select stages share.

Semantics follow the official pipeline's helpers: a block opens at three backticks, an optional
language tag runs to the end of that line, the block ends at the next three backticks, and every
block's text is stripped. An unclosed last block is ignored.
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
            blocks.append(Block(found_tag, text[content:closing].strip(), content))
        pos = closing + len(FENCE)


def python_blocks(text: str) -> list[str]:
    return [b.code for b in find_blocks(text, "python")]


def split_response_tests(text: str) -> tuple[str, str] | None:
    """(response, tests), both stripped, when text holds the split marker exactly once; else None."""
    parts = text.split(RESPONSE_TEST_SPLIT)
    if len(parts) != 2:
        return None
    return parts[0].strip(), parts[1].strip()
