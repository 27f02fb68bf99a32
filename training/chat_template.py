"""The paper's instruction template, as a Jinja chat template saved with the tokenizer.

Rendered for one instruction/response pair:

    <bos>{SYSTEM}\n\n### Instruction\n{instruction}\n\n### Response\n{response}<eos>

`add_generation_prompt` ends the text after "### Response\n", which is where codegen starts the model.
The response and its EOS sit inside `{% generation %}` so TRL's assistant-only loss also works with it.
A leading system message replaces the paper's system line; later turns are separated by a blank line.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import UserError

SYSTEM = ("You are an exceptionally intelligent coding assistant that consistently delivers accurate and "
          "reliable responses to user instructions.")
INSTRUCTION_HEADER = "### Instruction\n"
RESPONSE_HEADER = "### Response\n"

PAPER_TEMPLATE = (
    "{%- if bos_token %}{{- bos_token }}{%- endif %}"
    "{%- if messages and messages[0]['role'] == 'system' %}"
    "{{- messages[0]['content'] }}{%- set turns = messages[1:] %}"
    "{%- else %}"
    "{{- '" + SYSTEM + "' }}{%- set turns = messages %}"
    "{%- endif %}"
    "{{- '\\n\\n' }}"
    "{%- for message in turns %}"
    "{%- if message['role'] == 'user' %}"
    "{%- if not loop.first %}{{- '\\n\\n' }}{%- endif %}"
    "{{- '### Instruction\\n' + message['content'] + '\\n\\n' }}"
    "{%- elif message['role'] == 'assistant' %}"
    "{{- '### Response\\n' }}{% generation %}{{- message['content'] + eos_token }}{% endgeneration %}"
    "{%- else %}"
    "{{- raise_exception('the instruction template has no place for a ' + message['role'] + ' message') }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '### Response\\n' }}{%- endif %}"
)


def resolve_template(choice: str, tokenizer, where: str = "chat_template") -> str:
    """The template text for `choice`: "paper", "model" (keep the tokenizer's own) or a .jinja file path."""
    if choice == "paper":
        return PAPER_TEMPLATE
    if choice == "model":
        own = getattr(tokenizer, "chat_template", None)
        if not own:
            raise UserError(f"{where}: 'model' keeps the model's own chat template, but its tokenizer has none; "
                            "use 'paper'")
        if not isinstance(own, str):
            raise UserError(f"{where}: the tokenizer holds several named chat templates; pass one as a .jinja file")
        return own
    path = Path(choice)
    if path.suffix not in (".jinja", ".j2") or not path.is_file():
        raise UserError(f"{where}: '{choice}' is neither 'paper', 'model' nor an existing .jinja file")
    return path.read_text(encoding="utf-8")
