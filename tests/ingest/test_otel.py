"""A GenAI span's attributes into a row: messages, properties and the user, key by key."""

from __future__ import annotations

from typing import Any

import orjson

from helioscope.ingest._otel_keys import INDEXED as _INDEXED
from helioscope.ingest.otel import span_to_row


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
    """A key's part, and a list of keys' plan, are found once and kept: the same, and bounded."""
    from helioscope.ingest import _otel_keys as keys

    keys.KINDS.clear()
    keys.plan.by_keys.clear()
    keys.plan.keys = 0
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
    assert keys.KINDS and len(keys.plan.by_keys) == 1  # kept
    again = span_to_row(_span(attributes), "org", None)
    assert first == again
    assert first is not None and first.properties == {"Feature": "faq"}
    assert first.user_id == "erin"
    odd = {f"client.key.{n}": "v" for n in range(keys.KINDS_MAX + 10)}
    assert span_to_row(_span(odd), "org", None) is None  # no GenAI key: not an LLM call
    assert len(keys.KINDS) <= keys.KINDS_MAX
    for n in range(keys.plan.MAX_KEYS // 500 + 2):  # many lists of many keys: the plans too
        many = {f"gen_ai.k{n}.{k}": "v" for k in range(500)}
        assert span_to_row(_span(many), "org", None) is not None
        assert keys.plan.keys == sum(map(len, keys.plan.by_keys)) <= keys.plan.MAX_KEYS
    assert len(keys.plan.by_keys) < keys.plan.MAX_KEYS // 500 + 2
    keys.plan.by_keys.clear()
    keys.plan.keys = 0
    long = {"gen_ai.system": "openai", "x" * (keys.KEY_MAX + 1): "v"}  # read, but not kept
    assert span_to_row(_span(long), "org", None) is not None
    assert not keys.plan.by_keys and "x" * (keys.KEY_MAX + 1) not in keys.KINDS
    assert span_to_row(_span(attributes), "org", None) == first


def test_the_same_keys_in_another_order_read_the_same() -> None:
    """A plan is kept per list of keys: reordered keys have their own, and agree with it."""
    association = "traceloop.association.properties."
    attributes = {
        "gen_ai.system": "anthropic",
        "gen_ai.response.model": "claude-3-5-sonnet-20241022",
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 3,
        "gen_ai.prompt.1.content": "second",
        "gen_ai.prompt.0.content": "first",
        "gen_ai.completion.0.content": "done",
        f"{association}Helicone-Property-A": "a",
        f"{association}Helicone-Session-Id": "s",
        "server.address": "api.anthropic.com",
    }
    row = span_to_row(_span(attributes), "org", None)
    backwards = span_to_row(_span(dict(reversed(attributes.items()))), "org", None)
    assert row is not None and backwards is not None
    assert row.request_body is not None and row.response_body is not None
    assert row.request_body == backwards.request_body
    assert row.response_body == backwards.response_body
    assert (row.prompt_tokens, row.completion_tokens, row.total_tokens) == (10, 3, 13)
    assert row.provider == "ANTHROPIC" and row.target_url == "api.anthropic.com"
    assert row.cost is not None and row.cost == backwards.cost
    assert list(row.properties) == ["A", "Helicone-Session-Id"]
    assert list(backwards.properties) == ["Helicone-Session-Id", "A"]
    assert orjson.loads(row.request_body)["messages"] == [
        {"content": "first"},
        {"content": "second"},
    ]
    (choice,) = orjson.loads(row.response_body)["choices"]
    assert choice["message"] == {"role": "assistant", "content": "done"}


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


def _rows(payload: Any) -> list[Any]:
    import asyncio

    from helioscope.ingest.otel import trace_rows

    return asyncio.run(trace_rows(payload, "org", 3))


def _export(spans: list[Any], **extra: Any) -> bytes:
    resource = {"resource": {"attributes": []}, "scopeSpans": [{"spans": spans, "x": 1}]}
    return orjson.dumps({"resourceSpans": [None, resource, {}, {"scopeSpans": None}], **extra})


def _llm_span(n: int, *attributes: Any, **fields: Any) -> dict[str, Any]:
    span = {
        "traceId": "5B8EFFF798038103D269B633813FC60C",
        "spanId": f"{n:016x}",
        "startTimeUnixNano": "1764000000000000000",
        "endTimeUnixNano": 1764000000250000000,
        "attributes": [
            {"key": "gen_ai.system", "value": {"stringValue": "openai"}},
            {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}},
            *attributes,
        ],
    }
    return {**span, **fields}


def test_an_otlp_export_is_decoded_typed_into_the_same_rows() -> None:
    """msgspec's objects give every row the dictionaries gave, OTLP/JSON's quirks included."""
    import gc

    from helioscope.ingest.otel import decode_json

    def kv(key: str, value: Any) -> dict[str, Any]:
        return {"key": key, "value": value}

    spans = [
        _llm_span(1, kv("gen_ai.usage.prompt_tokens", {"intValue": "12"})),
        _llm_span(2, kv("gen_ai.usage.prompt_tokens", {"intValue": 12}), status={"code": 2}),
        _llm_span(
            3,
            kv("gen_ai.usage.completion_tokens", {"doubleValue": 7}),
            kv("gen_ai.usage.prompt_tokens", {"doubleValue": 7.5}),
            kv("gen_ai.prompt.0.content", {"doubleValue": 3}),
            kv("gen_ai.prompt.1.content", {"doubleValue": "NaN"}),
            kv("gen_ai.prompt.2.content", {"boolValue": False}),
            kv("gen_ai.prompt.3.content", {"stringValue": None, "intValue": "4"}),
            kv("gen_ai.prompt.4.content", {"arrayValue": {"values": [{"intValue": "1"}, {}]}}),
            kv("gen_ai.prompt.5.content", {"kvlistValue": {"values": []}}),
            kv("gen_ai.prompt.6.content", {"bytesValue": "aGk="}),
            kv("gen_ai.prompt.7.content", None),
            {"value": {"stringValue": "no key: skipped"}},
            kv("gen_ai.prompt.0.content", {"stringValue": "again", "unknown": [1]}),
            kv("traceloop.association.properties.Helicone-Property-N", {"intValue": "5"}),
            status={"code": "STATUS_CODE_ERROR", "message": "x"},
            name="chat",
            kind=3,
        ),
        _llm_span(4, traceId="W47/95gDgQPSabYzgT/GDA==", spanId="7uGbfsPBsXQ=", status={}),
        _llm_span(5, kv("server.address", {"stringValue": "api.openai.com"}), name=None),
        {"attributes": [kv("http.method", {"stringValue": "GET"})]},  # not an LLM call
    ]
    body = _export(spans, unknown={"deep": [1.5, None, "x"]})
    payload = decode_json(body)
    assert not isinstance(payload, dict)  # typed
    assert not gc.is_tracked(payload)
    typed, dicts = _rows(payload), _rows(orjson.loads(body))
    assert len(typed) == 5
    assert typed == dicts
    assert typed[3].request_id != typed[0].request_id


def test_bodies_the_types_do_not_admit_are_answered_as_before() -> None:
    """Anything OTLP's types do not hold is read as dictionaries: the same rows, the same 400s."""
    import pytest

    from helioscope.errors import BadRequest
    from helioscope.ingest.otel import decode_json

    odd = [
        _llm_span(1, {"key": "gen_ai.prompt.0.content", "value": "a bare string"}),
        _llm_span(2, {"key": "gen_ai.usage.prompt_tokens", "value": {"intValue": 5.0}}),
        _llm_span(3, {"key": "gen_ai.prompt.0.content", "value": {"stringValue": 5}}),
        _llm_span(4, {"key": "gen_ai.usage.prompt_tokens", "value": {"intValue": 2**64 - 1}}),
        _llm_span(5, attributes=[{"key": "llm.x", "value": {"stringValue": "v"}}], status=[]),
    ]
    for span in odd:
        body = _export([span])
        payload = decode_json(body)
        assert payload == orjson.loads(body)  # dictionaries
        assert _rows(payload) == _rows(orjson.loads(body)) != []
    # orjson reads integers beyond 64 bits as floats
    body = _export([_llm_span(6, {"key": "x.n", "value": {"intValue": "big"}})])
    body = body.replace(b'"big"', str(10**30).encode())
    assert isinstance(decode_json(body), dict)
    assert _rows(decode_json(body)) == _rows(orjson.loads(body)) != []

    refused = {
        b'{"resourceSpans": 5}': "body: expected an OTLP trace export with resourceSpans",
        b"[]": "body: expected an OTLP trace export with resourceSpans",
        b'{"resourceSpans": null}': "body: expected an OTLP trace export with resourceSpans",
        _export([1]): "resourceSpans[1].scopeSpans[0].spans: expected a list of spans",
        b'{"resourceSpans": [{"scopeSpans": [{"spans": {"a": 1}}]}]}': (
            "resourceSpans[0].scopeSpans[0].spans: expected a list of spans"
        ),
        b'{"resourceSpans": []': "body: malformed JSON",
        b'{"resourceSpans": [], "x": "\xff"}': "body: malformed JSON",  # not UTF-8
        b'{"resourceSpans": [], "x": NaN}': "body: malformed JSON",
    }
    for body, message in refused.items():
        with pytest.raises(BadRequest) as raised:
            _rows(decode_json(body))
        assert raised.value.message.startswith(message), body
