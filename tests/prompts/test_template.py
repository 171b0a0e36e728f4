"""The template language: variables, typed validation, substitution, JSON, partials, legacy tags."""

from __future__ import annotations

from typing import Any

import pytest

from helioscope.prompts import (
    InvalidPromptInput,
    chat_to_responses,
    compile_prompt_body,
    extract_legacy,
    extract_partials,
    extract_variables,
    fill_legacy_template,
    is_responses_body,
    legacy_input_keys,
    merge_prompt_body,
    responses_to_chat,
    substitute_json,
    substitute_text,
)


def test_variables_are_found_once_in_order_with_spaces_allowed() -> None:
    body = {
        "messages": [
            {"role": "system", "content": "You are {{hc:persona:string}}."},
            {"role": "user", "content": "{{ hc : age : number }} and {{hc:persona:string}}"},
        ]
    }
    found = [(v.name, v.type) for v in extract_variables(body)]
    assert found == [("persona", "string"), ("age", "number")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "n=0"), (False, "n=false"), ("", "n="), (2.5, "n=2.5"), (3.0, "n=3"), (True, "n=true")],
)
def test_falsy_and_typed_values_are_substituted(value: Any, expected: str) -> None:
    assert substitute_text("n={{hc:n:any}}", {"n": value}) == expected


def test_missing_variables_stay_in_place() -> None:
    text = "Hi {{hc:name:string}}, you are {{hc:age:number}}"
    assert substitute_text(text, {"name": "Ada"}) == "Hi Ada, you are {{hc:age:number}}"


@pytest.mark.parametrize(
    ("type_", "good", "bad"),
    [
        ("number", ["3", 3, 2.5, "-1e3"], ["abc", True, None, "", [1]]),
        ("boolean", [True, "false", "YES", "no"], ["maybe", 1, None]),
        ("string", ["x", 1, False], [None, {"a": 1}, [1]]),
    ],
)
def test_typed_validation_names_the_variable(type_: str, good: list[Any], bad: list[Any]) -> None:
    text = "{{hc:v:" + type_ + "}}"
    for value in good:
        substitute_text(text, {"v": value})
    for value in bad:
        with pytest.raises(InvalidPromptInput, match="variable 'v' expects"):
            substitute_text(text, {"v": value})
        assert InvalidPromptInput.status == 400


def test_any_other_type_accepts_anything() -> None:
    assert substitute_text("{{hc:x:json}}", {"x": {"a": 1}}) == '{"a":1}'


def test_json_substitution_types_exact_placeholders_and_renames_keys() -> None:
    schema = {
        "type": "json_schema",
        "json_schema": {
            "name": "{{hc:schema_name:string}}",
            "strict": "{{hc:strict:boolean}}",
            "schema": {"properties": {"{{hc:field:string}}": {"maxLength": "{{hc:max:number}}"}}},
            "description": "about {{hc:topic:string}}",
        },
    }
    inputs = {"schema_name": "out", "strict": "yes", "field": "answer", "max": "12", "topic": "t"}
    out = substitute_json(schema, inputs, "response_format")
    assert out["json_schema"]["strict"] is True
    assert out["json_schema"]["name"] == "out"
    assert out["json_schema"]["schema"]["properties"] == {"answer": {"maxLength": 12}}
    assert out["json_schema"]["description"] == "about t"


def test_json_substitution_requires_every_variable() -> None:
    with pytest.raises(InvalidPromptInput, match="'max' used in tools needs an input"):
        substitute_json([{"n": "{{hc:max:number}}"}], {}, "tools")
    with pytest.raises(InvalidPromptInput, match="'k' names a key"):
        substitute_json({"{{hc:k:string}}": 1}, {"k": 5}, "tools")


def test_compile_checks_types_across_the_whole_body() -> None:
    body: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "{{hc:q:string}}"}]}],
        "tools": [{"type": "function", "function": {"name": "f", "x": "{{hc:n:number}}"}}],
    }
    compiled = compile_prompt_body(body, {"q": "why", "n": 0})
    assert compiled["messages"][0]["content"][0]["text"] == "why"
    assert compiled["tools"][0]["function"]["x"] == 0
    assert body["messages"][0]["content"][0]["text"] == "{{hc:q:string}}"  # not changed
    with pytest.raises(InvalidPromptInput, match="variable 'n' expects a number"):
        compile_prompt_body(body, {"q": "why", "n": "many"})


def test_partials_are_replaced_by_their_text() -> None:
    text = "Rules: {{hcp:abc123:0}} / {{hcp:abc123:1:staging}}"
    partials = extract_partials(text)
    assert [(p.prompt_id, p.index, p.environment) for p in partials] == [
        ("abc123", 0, None),
        ("abc123", 1, "staging"),
    ]
    mapping = {partials[0].raw: "be kind", partials[1].raw: "be {{hc:tone:string}}"}
    assert substitute_text(text, {"tone": "brief"}, mapping) == "Rules: be kind / be brief"


def test_merge_puts_stored_first_merges_tools_and_lets_the_call_win() -> None:
    stored = {
        "model": "gpt-4o-mini",
        "temperature": 0.2,
        "messages": [{"role": "system", "content": "You help {{hc:who:string}}."}],
        "tools": [{"type": "function", "function": {"name": "stored"}}],
        "response_format": {"type": "json_object"},
    }
    call = {
        "prompt_id": "abc123",
        "inputs": {"who": "Ada"},
        "environment": "production",
        "temperature": 0.9,
        "messages": [{"role": "user", "content": "hello {{hc:who:string}}"}],
        "tools": [{"type": "function", "function": {"name": "call"}}],
    }
    merged = merge_prompt_body(stored, call, {"who": "Ada"})
    assert merged["model"] == "gpt-4o-mini"
    assert merged["temperature"] == 0.9
    assert [m["content"] for m in merged["messages"]] == ["You help Ada.", "hello Ada"]
    assert [t["function"]["name"] for t in merged["tools"]] == ["stored", "call"]
    assert merged["response_format"] == {"type": "json_object"}
    assert not {"prompt_id", "inputs", "environment", "version_id"} & merged.keys()


def test_legacy_tags_split_into_forwarded_text_template_and_inputs() -> None:
    body = {
        "model": "gpt-4o-mini",
        "messages": [
            {
                "role": "user",
                "content": 'Write about <helicone-prompt-input key="topic"> cats '
                '</helicone-prompt-input> for <helicone-prompt-input key="who">kids'
                "</helicone-prompt-input>.",
            }
        ],
    }
    out = extract_legacy(body)
    assert out.forward["messages"][0]["content"] == "Write about  cats  for kids."
    assert out.template["messages"][0]["content"] == (
        'Write about <helicone-prompt-input key="topic" /> for <helicone-prompt-input key="who" />.'
    )
    assert out.inputs == {"topic": "cats", "who": "kids"}
    assert legacy_input_keys(out.template) == ["topic", "who"]
    filled = fill_legacy_template(out.template, {"topic": "dogs"})
    assert filled["messages"][0]["content"] == (
        'Write about dogs for <helicone-prompt-input key="who" />.'
    )


def test_legacy_auto_inputs_fill_whole_messages_or_drop_them() -> None:
    template = {
        "messages": ["<helicone-auto-prompt-input idx=0 />", "<helicone-auto-prompt-input idx=1 />"]
    }
    filled = fill_legacy_template(template, {}, [{"role": "user", "content": "hi"}])
    assert filled == {"messages": [{"role": "user", "content": "hi"}]}


def test_a_responses_body_is_merged_through_chat_form() -> None:
    stored = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "Answer as {{hc:role:string}}."}],
        "tools": [{"type": "function", "function": {"name": "stored", "parameters": {}}}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {}}},
    }
    call = {
        "prompt_id": "abc123",
        "instructions": "Be brief.",
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "hi {{hc:role:string}}"}]},
            {"type": "function_call_output", "call_id": "c1", "output": "42"},
        ],
        "tools": [{"type": "function", "name": "call", "parameters": {}}],
        "text": {"verbosity": "low"},
    }
    assert is_responses_body(call) and not is_responses_body(stored)
    chat = merge_prompt_body(stored, responses_to_chat(call), {"role": "a pirate"})
    body = chat_to_responses(chat, call)
    assert body["input"] == [
        {"role": "system", "content": "Answer as a pirate."},
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "input_text", "text": "hi a pirate"}]},
        {"type": "function_call_output", "call_id": "c1", "output": "42"},
    ]
    assert [t["name"] for t in body["tools"]] == ["stored", "call"]
    assert body["text"] == {
        "verbosity": "low",
        "format": {"type": "json_schema", "name": "s", "schema": {}},
    }
    assert body["model"] == "gpt-4o-mini"
    assert not {"messages", "response_format", "prompt_id", "instructions"} & body.keys()
