"""Prompt templates: variables, typed validation, compiling and merging. Pure; no I/O.

Two template languages live here:

- Prompts 2025: ``{{hc:name:type}}`` variables and ``{{hcp:…}}`` partials in an OpenAI chat
  body (``compile_prompt_body``, ``merge_prompt_body``).
- Legacy prompts: ``<helicone-prompt-input key="…">`` tags (``extract_legacy``,
  ``fill_legacy_template``).
"""

from helioscope.prompts._compile import (
    PROMPT_FIELDS,
    compile_messages,
    compile_prompt_body,
    merge_prompt_body,
)
from helioscope.prompts._legacy import (
    TAG_MARKER,
    LegacyExtraction,
    extract_legacy,
    fill_legacy_template,
    legacy_input_keys,
    template_tag,
)
from helioscope.prompts._responses import (
    chat_to_responses,
    is_responses_body,
    responses_to_chat,
)
from helioscope.prompts._variables import (
    InvalidPromptInput,
    PromptPartial,
    TemplateVariable,
    as_text,
    check_value,
    extract_partials,
    extract_variables,
    substitute_json,
    substitute_text,
    typed_value,
    validate_inputs,
)

__all__ = [
    "PROMPT_FIELDS",
    "TAG_MARKER",
    "InvalidPromptInput",
    "LegacyExtraction",
    "PromptPartial",
    "TemplateVariable",
    "as_text",
    "chat_to_responses",
    "check_value",
    "compile_messages",
    "compile_prompt_body",
    "extract_legacy",
    "extract_partials",
    "extract_variables",
    "fill_legacy_template",
    "is_responses_body",
    "legacy_input_keys",
    "merge_prompt_body",
    "responses_to_chat",
    "substitute_json",
    "substitute_text",
    "template_tag",
    "typed_value",
    "validate_inputs",
]
