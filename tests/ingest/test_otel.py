"""A GenAI span's attributes into a row: messages, properties and the user, key by key."""

from __future__ import annotations

from typing import Any

import orjson

from helioscope.ingest.otel import _INDEXED, span_to_row


def _span(attributes: dict[str, Any]) -> dict[str, Any]:
    def value(v: Any) -> dict[str, Any]:
        return {"intValue": str(v)} if isinstance(v, int) else {"stringValue": v}

    return {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "startTimeUnixNano": "1764000000000000000",
        "endTimeUnixNano": "1764000000250000000",
        "attributes": [{"key": k, "value": value(v)} for k, v in attributes.items()],
    }


def test_message_keys_are_read_as_the_pattern_reads_them() -> None:
    """The plain split and the regular expression agree, odd keys included."""
    keys = [
        "gen_ai.prompt.0.role",
        "gen_ai.prompt.0.content",
        "gen_ai.prompt.1.tool_call_id",
        "gen_ai.prompt.01._",
        "gen_ai.prompt.\u0663.content",  # an Arabic-Indic three: \d matches it
        "gen_ai.prompt.2.content\n",  # $ matches before a final newline
        "gen_ai.prompt.4.tool_calls.0.name",  # nested: not a message field
        "gen_ai.prompt..content",
        "gen_ai.prompt.5.",
        "gen_ai.prompt.x.content",
        "gen_ai.prompt.6.conténu",  # \w is Unicode
        "gen_ai.completion.0.content",
        "gen_ai.completion.0.finish_reason",
    ]
    row = span_to_row(_span({k: f"v:{k}" for k in keys}), "org", None)
    assert row is not None and row.request_body is not None and row.response_body is not None
    expected: dict[str, dict[int, dict[str, str]]] = {"prompt": {}, "completion": {}}
    for key in keys:
        match = _INDEXED.match(key)
        if match:
            kind, index, field = match.group(1), int(match.group(2)), match.group(3)
            expected[kind].setdefault(index, {})[field] = f"v:{key}"
    prompt = [expected["prompt"][i] for i in sorted(expected["prompt"])]
    assert orjson.loads(row.request_body)["messages"] == prompt
    assert len(prompt) == 5  # 0, 1, 2, 3 and 6 (01 is 1)
    (choice,) = orjson.loads(row.response_body)["choices"]
    assert choice["message"]["content"] == "v:gen_ai.completion.0.content"
    assert choice["finish_reason"] == "v:gen_ai.completion.0.finish_reason"


def test_helicone_attributes_become_the_user_and_properties() -> None:
    association = "traceloop.association.properties."
    row = span_to_row(
        _span(
            {
                "gen_ai.system": "openai",
                f"{association}Helicone-User-Id": "erin",
                f"{association}Helicone-Property-Feature": "faq",
                f"{association}Helicone-Session-Id": "s-1",
                f"{association}Other": "not Helicone's",
                "llm.user": "not used: the association's user wins",
            }
        ),
        "org",
        7,
    )
    assert row is not None
    assert row.user_id == "erin"
    assert row.properties == {"Feature": "faq", "Helicone-Session-Id": "s-1"}
    assert row.provider == "OPENAI" and row.latency == 250 and row.helicone_api_key_id == 7
    assert span_to_row(_span({"http.method": "GET"}), "org", None) is None
    llm_only = span_to_row(_span({"llm.user": "bob"}), "org", None)
    assert llm_only is not None and llm_only.user_id == "bob"


def test_keys_read_from_the_cache_answer_as_the_first_time() -> None:
    """A key's part is found once and kept; the kept answers are the same, and bounded."""
    from helioscope.ingest import otel

    otel._KINDS.clear()
    attributes = {
        "gen_ai.system": "openai",
        "gen_ai.prompt.0.role": "user",
        "gen_ai.prompt.0.content": "hi",
        "gen_ai.prompt.x.content": "not a message",
        "traceloop.association.properties.Helicone-Property-Feature": "faq",
        "traceloop.association.properties.Helicone-User-Id": "erin",
        "http.method": "POST",
    }
    first = span_to_row(_span(attributes), "org", None)
    assert otel._KINDS  # kept
    again = span_to_row(_span(attributes), "org", None)
    assert first == again
    assert first is not None and first.properties == {"Feature": "faq"}
    odd = {f"client.key.{n}": "v" for n in range(otel._KINDS_MAX + 10)}
    assert span_to_row(_span(odd), "org", None) is None  # no GenAI key: not an LLM call
    assert len(otel._KINDS) <= otel._KINDS_MAX


def test_a_key_given_twice_is_read_with_its_last_value() -> None:
    """As the attribute dictionary reads it: the last value, in the first one's place."""
    association = "traceloop.association.properties."
    span = _span({"gen_ai.system": "openai"})
    for key, value in [
        (f"{association}Helicone-Property-A", "first"),
        ("gen_ai.prompt.0.content", "first"),
        (f"{association}Helicone-Property-B", "b"),
        (f"{association}Helicone-Property-A", "last"),
        ("gen_ai.prompt.0.content", "last"),
    ]:
        span["attributes"].append({"key": key, "value": {"stringValue": value}})
    row = span_to_row(span, "org", None)
    assert row is not None and row.request_body is not None
    assert list(row.properties.items()) == [("A", "last"), ("B", "b")]
    assert orjson.loads(row.request_body)["messages"] == [{"content": "last"}]
