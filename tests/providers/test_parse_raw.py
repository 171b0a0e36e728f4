"""parse_raw: the model and usage of a non-streamed body read from its bytes, as parse_body reads
them from the whole parsed body (the log writer's path before), for every provider."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import astuple, dataclass
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helioscope.gateway.ai._routing import log_format
from helioscope.providers import anthropic, google, openai
from helioscope.providers.catalog import PROVIDERS
from helioscope.providers.registry import (
    ANTHROPIC,
    CUSTOM,
    GOOGLE,
    OPENAI,
    provider_for_target,
    provider_named,
)
from helioscope.providers.usage import ParsedResponse, Usage

ParseBody = Callable[[Any], ParsedResponse]
ParseRaw = Callable[[bytes], ParsedResponse]
PARSERS: list[tuple[ParseBody, ParseRaw]] = [
    (openai.parse_body, openai.parse_raw),
    (anthropic.parse_body, anthropic.parse_raw),
    (google.parse_body, google.parse_raw),
]
IDS = ["openai", "anthropic", "google"]


def before(parse_body: ParseBody, raw: bytes) -> Read:
    """What the writer read of a body until parse_raw: orjson's whole parse, then parse_body."""
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return Read(None, Usage())
    parsed = parse_body(body)
    return Read(parsed.model, parsed.usage)


def now(parse_raw: ParseRaw, raw: bytes) -> Read:
    parsed = parse_raw(raw)
    assert parsed.body is None  # the caller stores the raw text: no body is built
    return Read(parsed.model, parsed.usage)


@dataclass(frozen=True)
class Read:
    """A model and usage, equal to another only with counts of the same types (1 == 1.0)."""

    model: str | None
    usage: Usage

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Read):
            return NotImplemented
        mine, theirs = astuple(self.usage), astuple(other.usage)
        return (self.model, mine, [c.__class__ for c in mine]) == (
            other.model,
            theirs,
            [c.__class__ for c in theirs],
        )

    def __hash__(self) -> int:
        return hash(self.model)


def to_json(value: Any) -> str:
    """JSON text of a value, integers of any size included (orjson writes 64 bits at most)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{to_json(k)}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return orjson.dumps(value).decode()


# Counts as providers send them (and numbers as_int reads otherwise), and as they should not:
# integers past the 64 bits orjson reads exactly, and values that are no number.
COUNTS: list[Any] = [0, 1, 7, 25, 1_000_000, -3, 2**63 - 1, -(2**63), 1.0, 2.5, -0.0, 1e300, None]
ODD_COUNTS: list[Any] = [2**63, 2**64 - 1, 2**64, 10**20, -(2**63) - 1, 10**30]
ODD_COUNTS += [True, False, "5", "", [], [1], {}, {"a": 1}]
OPENAI_KEYS = ["prompt_tokens", "completion_tokens", "total_tokens"]
RESPONSES_KEYS = ["input_tokens", "output_tokens", "total_tokens"]
ANTHROPIC_KEYS = [
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
]
GOOGLE_KEYS = [
    "promptTokenCount",
    "candidatesTokenCount",
    "totalTokenCount",
    "cachedContentTokenCount",
    "thoughtsTokenCount",
]
DETAIL_KEYS = ["cached_tokens", "audio_tokens", "reasoning_tokens", "text_tokens"]
DETAILS = [
    "prompt_tokens_details",
    "completion_tokens_details",
    "input_tokens_details",
    "output_tokens_details",
]


def usages(counts: st.SearchStrategy[Any], odd: list[Any]) -> st.SearchStrategy[Any]:
    """Every shape a usage takes: OpenAI's two, Anthropic's, Google's, mixtures, no object."""
    details = st.dictionaries(st.sampled_from(DETAIL_KEYS), counts, max_size=4)
    openai_usage = st.fixed_dictionaries(
        {},
        optional={
            **{key: counts for key in OPENAI_KEYS + RESPONSES_KEYS},
            **{key: details | st.sampled_from([None, *odd]) for key in DETAILS},
        },
    )
    return st.one_of(
        openai_usage,
        st.fixed_dictionaries({}, optional={key: counts for key in ANTHROPIC_KEYS}),
        st.fixed_dictionaries({}, optional={key: counts for key in GOOGLE_KEYS}),
        st.dictionaries(
            st.sampled_from(OPENAI_KEYS + RESPONSES_KEYS + ANTHROPIC_KEYS + GOOGLE_KEYS), counts
        ),
        st.sampled_from([None, *odd]),
    )


# Half of the bodies hold only what the typed decode admits (no validation error: every count
# is read by the new code), the other half anything (some read whole, as before).
bodies = st.one_of(
    *(
        st.fixed_dictionaries(
            {},
            optional={
                "model": models,
                "modelVersion": models,
                "usage": usage,
                "usageMetadata": usage,
            },
        ).map(
            # Content the typed decode skips, before and after the keys it reads.
            lambda keys: {"choices": [{"message": {"content": 'hi \u00e9 "x"'}}], **keys, "n": {}}
        )
        for models, usage in (
            (st.sampled_from(["gpt-4o", "", None]), usages(st.sampled_from(COUNTS), [])),
            (
                st.sampled_from(["gemini-2.5-flash", None, 4, ["m"], {"m": 1}]),
                usages(st.sampled_from(COUNTS + ODD_COUNTS), ODD_COUNTS),
            ),
        )
    )
)


@pytest.mark.parametrize(("parse_body", "parse_raw"), PARSERS, ids=IDS)
@settings(max_examples=500, deadline=None)
@given(body=bodies | st.sampled_from([None, 1, [], [{}], "x"]))
def test_any_json_body_gives_the_model_and_usage_it_gave_before(
    parse_body: ParseBody, parse_raw: ParseRaw, body: Any
) -> None:
    raw = to_json(body).encode()
    assert now(parse_raw, raw) == before(parse_body, raw)


# Bodies as providers send them, and the odd ones; each is read by every provider's parser.
TABLE: list[bytes] = [
    # OpenAI chat completion, with and without details, cached and audio counts
    b'{"id":"c","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,'
    b'"message":{"role":"assistant","content":"Joyful."},"finish_reason":"stop"}],'
    b'"usage":{"prompt_tokens":25,"completion_tokens":3,"total_tokens":28,'
    b'"prompt_tokens_details":{"cached_tokens":8,"audio_tokens":2},'
    b'"completion_tokens_details":{"reasoning_tokens":1,"audio_tokens":4,'
    b'"accepted_prediction_tokens":0}}}',
    b'{"model":"gpt-4o","usage":{"prompt_tokens":5,"completion_tokens":2}}',
    b'{"model":"gpt-4o","usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":0}}',
    b'{"model":"gpt-4o","usage":{"prompt_tokens":null,"completion_tokens":null}}',
    b'{"model":"gpt-4o","usage":{"prompt_tokens":5.0,"completion_tokens":2.5,"total_tokens":true}}',
    b'{"model":"gpt-4o","usage":{"prompt_tokens":"5","completion_tokens":[2]}}',
    b'{"model":"gpt-4o","usage":{"prompt_tokens":1,"prompt_tokens_details":null,'
    b'"completion_tokens_details":"x"}}',
    b'{"model":"gpt-4o","usage":{"prompt_tokens":1,"prompt_tokens_details":[]}}',
    b'{"model":"gpt-4o","usage":{"prompt_tokens":18446744073709551615}}',
    b'{"model":"gpt-4o","usage":{"prompt_tokens":99999999999999999999}}',
    b'{"model":"gpt-4o","usage":{"prompt_tokens":-9223372036854775809}}',
    # out of a float's range where each provider reads it: orjson refused the body whole
    b'{"model":"gpt-4o","usage":{"prompt_tokens":1e400,"input_tokens":-1e400},'
    b'"usageMetadata":{"promptTokenCount":1e999}}',
    b'{"model":"gpt-4o","usage":{"prompt_tokens":1,"prompt_tokens":2}}',  # the last, as orjson
    b'{"model":"a","model":"gpt-4o","usage":{"prompt_tokens":1},"usage":null}',
    b'{"model":"gpt-4o","usage":null}',
    b'{"model":"gpt-4o","usage":[]}',
    b'{"model":"gpt-4o","usage":"none"}',
    b'{"model":7,"usage":{"total_tokens":3}}',
    b'{"model":{"name":"gpt-4o"}}',
    b'{"model":"gpt-\\u00e9\\ud83d\\ude00"}',
    b'{"error":{"message":"Rate limit","type":"requests","code":"rate_limit_exceeded"}}',
    # the Responses API
    b'{"id":"r","object":"response","model":"gpt-4.1","output":[{"type":"message",'
    b'"content":[{"type":"output_text","text":"hi"}]}],"usage":{"input_tokens":36,'
    b'"input_tokens_details":{"cached_tokens":4},"output_tokens":87,'
    b'"output_tokens_details":{"reasoning_tokens":12},"total_tokens":123}}',
    b'{"model":"gpt-4.1","usage":{"input_tokens":null,"output_tokens":3}}',
    b'{"model":"gpt-4.1","usage":{"input_tokens":2,"output_tokens":3,"total_tokens":0}}',
    b'{"model":"gpt-4.1","usage":{"input_tokens":2,"input_tokens_details":"x"}}',
    b'{"model":"gpt-4.1","usage":{"input_tokens":2,"prompt_tokens":9,"output_tokens":1.0}}',
    # Anthropic, cache reads and writes counted in the prompt
    b'{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-20250514",'
    b'"content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn","usage":'
    b'{"input_tokens":12,"cache_creation_input_tokens":100,"cache_read_input_tokens":50,'
    b'"cache_creation":{"ephemeral_5m_input_tokens":100},"output_tokens":6,'
    b'"service_tier":"standard","server_tool_use":{"web_search_requests":0}}}',
    b'{"model":"claude-3-5-haiku","usage":{"output_tokens":6}}',
    b'{"model":"claude-3-5-haiku","usage":{"input_tokens":3,"cache_read_input_tokens":null}}',
    b'{"model":"claude-3-5-haiku","usage":{"input_tokens":3.0,"cache_read_input_tokens":2.5}}',
    b'{"model":"claude-3-5-haiku","usage":{"input_tokens":3,"cache_creation_input_tokens":"1"}}',
    b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    # Google, and its OpenAI-compatible answers ("usage" and no "usageMetadata")
    b'{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},'
    b'"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":2,'
    b'"totalTokenCount":30,"cachedContentTokenCount":4,"thoughtsTokenCount":20,'
    b'"promptTokensDetails":[{"modality":"TEXT","tokenCount":8}]},'
    b'"modelVersion":"gemini-2.5-flash","responseId":"x"}',
    b'{"modelVersion":"gemini-2.5-flash","usageMetadata":{"promptTokenCount":8}}',
    b'{"modelVersion":"gemini-2.5-flash","usageMetadata":{}}',
    b'{"modelVersion":"gemini-2.5-flash","usageMetadata":null,"usage":{"prompt_tokens":1}}',
    b'{"modelVersion":"gemini-2.5-flash","usageMetadata":{"totalTokenCount":null}}',
    b'{"modelVersion":"gemini-2.5-flash","usageMetadata":{"promptTokenCount":true}}',
    b'{"modelVersion":"gemini-2.5-flash","usageMetadata":[1]}',
    b'{"model":"gemini-2.5-flash","modelVersion":"v","usage":{"prompt_tokens":4,'
    b'"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":2}}}',
    b'{"model":"gemini-2.5-flash","usage":null}',
    b'{"model":"gemini-2.5-flash","usage":{"prompt_tokens":"4"}}',
    b'{"modelVersion":"gemini-2.5-flash","usageMetadata":{"promptTokenCount":1},'
    b'"usage":{"prompt_tokens":"not read"}}',
    # JSON that is no object, no JSON at all, nothing
    b"[1, 2]",
    b'"text"',
    b"null",
    b"42",
    b"true",
    b"",
    b"   ",
    b"<html><body>502 Bad Gateway</body></html>",
    b'{"model":"gpt-4o","usage":{"prompt_tokens":1}',  # cut short
    b'{"model":"gpt-4o","usage":{"prompt_tokens":1}} trailing',
    b'{"model":"gpt-4o","usage":{"prompt_tokens":1},}',
    b'{"model":"gpt-4o","x":NaN,"usage":{"prompt_tokens":1}}',
    b'{"model":"gpt-4o","x":"\\ud800","usage":{"prompt_tokens":1}}',  # a lone surrogate
    b'{"model":"gpt-4o","x":"\x01","usage":{"prompt_tokens":1}}',  # a raw control character
    b'\xef\xbb\xbf{"model":"gpt-4o"}',  # a byte order mark
    b' \r\n\t{"model":"gpt-4o","usage":{"prompt_tokens":1}}\n',
    b'{"model":"\xff","usage":{"prompt_tokens":1}}',  # not UTF-8 in a value that is read
    # Deep: orjson refuses past 1,024 levels; msgspec's limit is Python's recursion limit.
    b'{"model":"gpt-4o","choices":' + b"[" * 990 + b"]" * 990 + b',"usage":{"prompt_tokens":1}}',
    b'{"model":"gpt-4o","choices":' + b"[" * 1010 + b"]" * 1010 + b',"usage":{"prompt_tokens":1}}',
    b'{"model":"gpt-4o","choices":' + b"[" * 2000 + b"]" * 2000 + b',"usage":{"prompt_tokens":1}}',
]


@pytest.mark.parametrize(("parse_body", "parse_raw"), PARSERS, ids=IDS)
@pytest.mark.parametrize("raw", TABLE)
def test_every_body_of_the_table_gives_what_it_gave_before(
    parse_body: ParseBody, parse_raw: ParseRaw, raw: bytes
) -> None:
    assert now(parse_raw, raw) == before(parse_body, raw)


def test_the_table_reads_each_provider_s_counts() -> None:
    """The equivalence above is no vacuous one: the usual answers do give their counts."""
    assert now(openai.parse_raw, TABLE[0]) == Read(
        "gpt-4o-mini",
        Usage(25, 3, 28, 8, None, 1, 2, 4),
    )
    responses = next(raw for raw in TABLE if b'"object":"response"' in raw)
    assert now(openai.parse_raw, responses) == Read(
        "gpt-4.1",
        Usage(36, 87, 123, prompt_cache_read_tokens=4, reasoning_tokens=12),
    )
    messages = next(raw for raw in TABLE if b"msg_1" in raw)
    assert now(anthropic.parse_raw, messages) == Read(
        "claude-sonnet-4-20250514",
        Usage(162, 6, 168, prompt_cache_read_tokens=50, prompt_cache_write_tokens=100),
    )
    gemini = next(raw for raw in TABLE if b"responseId" in raw)
    assert now(google.parse_raw, gemini) == Read(
        "gemini-2.5-flash",
        Usage(8, 2, 30, prompt_cache_read_tokens=4, reasoning_tokens=20),
    )
    compatible = next(raw for raw in TABLE if b'"modelVersion":"v"' in raw)
    assert now(google.parse_raw, compatible) == Read(
        "gemini-2.5-flash",
        Usage(4, 1, 5, prompt_cache_read_tokens=2),
    )


# Each provider's usual answer, whose every count (and every object holding counts, and the
# model) is replaced below by each value of COUNTS and ODD_COUNTS, or by nothing.
ANSWERS = [
    orjson.loads(TABLE[0]),  # OpenAI chat
    *(orjson.loads(raw) for raw in TABLE if b"output_tokens_details" in raw),  # Responses
    *(orjson.loads(raw) for raw in TABLE if b"msg_1" in raw),  # Anthropic
    *(orjson.loads(raw) for raw in TABLE if b"responseId" in raw),  # Google
    *(orjson.loads(raw) for raw in TABLE if b'"modelVersion":"v"' in raw),  # Google, compatible
]
_ABSENT = object()


def _variants(value: Any) -> Iterator[dict[str, Any]]:
    """``value`` with one of its counts, objects or models replaced (or dropped), each way."""
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if isinstance(item, dict):
            for inner in _variants(item):
                yield {**value, key: inner}
        if isinstance(item, dict) or key in ("model", "modelVersion"):
            replacements: list[Any] = [None, [], "x", 0, True, {}, 4, _ABSENT]
        elif isinstance(item, int | float):
            replacements = [*COUNTS, *ODD_COUNTS, _ABSENT]
        else:
            continue
        for replacement in replacements:
            if replacement is _ABSENT:
                yield {k: v for k, v in value.items() if k != key}
            else:
                yield {**value, key: replacement}


VARIANTS = [to_json(variant).encode() for answer in ANSWERS for variant in _variants(answer)]


@pytest.mark.parametrize(("parse_body", "parse_raw"), PARSERS, ids=IDS)
def test_every_count_of_every_answer_each_way_gives_what_it_gave_before(
    parse_body: ParseBody, parse_raw: ParseRaw
) -> None:
    assert len(VARIANTS) > 800
    differ = [raw for raw in VARIANTS if now(parse_raw, raw) != before(parse_body, raw)]
    assert differ == []


# What parse_raw reads where the whole parse refused the body: a value it skips that orjson
# cannot read (a byte that is not UTF-8, a number out of any float's range) costs the row
# nothing now; before, the row had no model and no usage.
SKIPPED_GARBAGE = [
    b'{"model":"gpt-4o","choices":[{"message":{"content":"caf\xe9"}}],'
    b'"usage":{"prompt_tokens":7,"completion_tokens":2}}',
    b'{"model":"gpt-4o","choices":[{"logprob":1e400}],'
    b'"usage":{"prompt_tokens":7,"completion_tokens":2}}',
    b'{"model":"gpt-4o","\xff":1,"usage":{"prompt_tokens":7,"completion_tokens":2}}',
]


@pytest.mark.parametrize("raw", SKIPPED_GARBAGE, ids=["not-utf8", "out-of-range", "key"])
def test_a_value_orjson_refuses_where_it_is_skipped_keeps_the_model_and_usage(raw: bytes) -> None:
    assert before(openai.parse_body, raw) == Read(None, Usage())
    assert now(openai.parse_raw, raw) == Read("gpt-4o", Usage(7, 2, 9))


def test_every_provider_format_reads_raw_bodies_as_its_parse_body() -> None:
    """Each format's parse_raw is its own parse_body's twin (a mismatch reads the wrong keys)."""
    twins = dict(PARSERS)
    formats = [OPENAI, ANTHROPIC, GOOGLE, CUSTOM, provider_for_target("https://api.groq.com")]
    formats += [provider_named("MISTRAL") or CUSTOM, *(log_format(spec) for spec in PROVIDERS)]
    assert provider_named("MISTRAL") is not CUSTOM
    for fmt in formats:
        assert twins[fmt.parse_body] is fmt.parse_raw, fmt.name
