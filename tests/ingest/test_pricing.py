"""Our fast path prices every call exactly as genai-prices would."""

from __future__ import annotations

from decimal import Decimal

from genai_prices import Usage as PriceUsage
from genai_prices import calc_price
from hypothesis import given, settings
from hypothesis import strategies as st

from helioscope.ingest.pricing import cost_nano_usd
from helioscope.providers import ANTHROPIC, OPENAI, ProviderFormat, Usage
from helioscope.store import NANO_USD

MODELS = [
    (OPENAI, "gpt-4o-mini"),
    (OPENAI, "gpt-4o"),
    (OPENAI, "gpt-4.1"),
    (OPENAI, "o3-mini"),
    (OPENAI, "text-embedding-3-small"),
    (OPENAI, "gpt-4o-audio-preview"),
    (ANTHROPIC, "claude-3-5-sonnet-20241022"),
    (ANTHROPIC, "claude-sonnet-4-5"),
    (ANTHROPIC, "claude-3-5-haiku-latest"),
]


def reference(provider: ProviderFormat, model: str, usage: Usage) -> int:
    price = calc_price(
        PriceUsage(
            input_tokens=usage.prompt_tokens or 0,
            output_tokens=usage.completion_tokens or 0,
            cache_read_tokens=usage.prompt_cache_read_tokens or None,
            cache_write_tokens=usage.prompt_cache_write_tokens or None,
            input_audio_tokens=usage.prompt_audio_tokens or None,
            output_audio_tokens=usage.completion_audio_tokens or None,
        ),
        model,
        provider_id=provider.price_id,
    )
    return int((price.total_price * NANO_USD).to_integral_value())


@st.composite
def usages(draw: st.DrawFn) -> Usage:
    prompt = draw(st.integers(0, 2_000_000))
    read = draw(st.integers(0, prompt))
    write = draw(st.integers(0, prompt - read))
    audio = draw(st.integers(0, prompt - read - write))
    completion = draw(st.integers(0, 200_000))
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        prompt_cache_read_tokens=read,
        prompt_cache_write_tokens=write,
        prompt_audio_tokens=audio,
        completion_audio_tokens=draw(st.integers(0, completion)),
    )


@settings(max_examples=300, deadline=None)
@given(model=st.sampled_from(MODELS), usage=usages())
def test_fast_path_equals_genai_prices(model: tuple[ProviderFormat, str], usage: Usage) -> None:
    provider, name = model
    assert cost_nano_usd(provider, name, usage) == reference(provider, name, usage)


def test_unknown_model_costs_none_not_zero() -> None:
    assert cost_nano_usd(OPENAI, "no-such-model-xyz", Usage(10, 10, 20)) is None
    assert cost_nano_usd(OPENAI, "gpt-4o-mini", Usage()) is None
    assert cost_nano_usd(OPENAI, "", Usage(1, 1, 2)) is None


def test_known_price() -> None:
    # gpt-4o-mini: $0.15 per million input tokens, $0.60 per million output tokens.
    nano = cost_nano_usd(OPENAI, "gpt-4o-mini", Usage(prompt_tokens=1_000_000, completion_tokens=0))
    assert nano is not None and Decimal(nano) / NANO_USD == Decimal("0.15")
