"""Cost of a call in USD x 1e9 (Helicone's integer unit), from the genai-prices library.

genai-prices ships its price table inside the package, so pricing works offline. A model it does
not know costs ``None`` (unknown), never 0.

Pricing runs for every logged call, and genai-prices' general calculation costs ~80 µs. Most
models are priced linearly (a price per token of each kind, maybe a price per call), so for each
model we derive those per-unit prices once from genai-prices itself, check them against its own
answer on probe usages, and from then on price a call with a handful of multiplications. Models
whose prices are not linear (tiers by prompt length, …) keep the general calculation.

The multiplications are on integers: each per-unit price is a decimal fraction with a few
digits, held as a whole number of 10^-scale USD, so a call costs a few integer products and
one rounding (~1 µs) instead of seven ``Decimal`` products and a ``_Counts`` (~4 µs of the log
writer's time per row). The result is the same number to the last nano-dollar: exact decimal
arithmetic, rounded half to even as ``Decimal.to_integral_value`` rounds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from genai_prices import Usage as PriceUsage
from genai_prices import calc_price, data_snapshot

from helioscope.providers import ProviderFormat, Usage
from helioscope.store import NANO_USD

logger = logging.getLogger("helioscope.pricing")

_NANO_USD = Decimal(NANO_USD)
_M = 1_000_000


@dataclass(frozen=True, slots=True)
class _LinearPrice:
    """USD per unit of each kind of token, and per call."""

    per_call: Decimal
    uncached_input: Decimal
    cache_read: Decimal
    cache_write: Decimal
    input_audio: Decimal
    output: Decimal
    output_audio: Decimal

    def total(self, u: _Counts) -> Decimal:
        uncached = u.input - u.cache_read - u.cache_write - u.input_audio
        return (
            self.per_call
            + uncached * self.uncached_input
            + u.cache_read * self.cache_read
            + u.cache_write * self.cache_write
            + u.input_audio * self.input_audio
            + (u.output - u.output_audio) * self.output
            + u.output_audio * self.output_audio
        )


@dataclass(frozen=True, slots=True)
class _IntPrice:
    """A ``_LinearPrice`` in whole units of ``10**-scale`` USD (exact: see the module's doc)."""

    scale: int
    per_call: int
    uncached_input: int
    cache_read: int
    cache_write: int
    input_audio: int
    output: int
    output_audio: int
    divisor: int  # 10 ** (scale - 9): a nano-USD in these units, worked out once per model

    @classmethod
    def of(cls, linear: _LinearPrice) -> _IntPrice:
        """The same prices as integers, at the finest scale any of them needs (at least 9)."""
        prices = (
            linear.per_call,
            linear.uncached_input,
            linear.cache_read,
            linear.cache_write,
            linear.input_audio,
            linear.output,
            linear.output_audio,
        )
        scale = max(9, *(-int(p.normalize().as_tuple().exponent) for p in prices))
        unit = Decimal(10) ** scale
        call, uncached, read, write, audio_in, out, audio_out = (int(p * unit) for p in prices)
        return cls(scale, call, uncached, read, write, audio_in, out, audio_out, 10 ** (scale - 9))

    def nano_usd(self, usage: Usage) -> int:
        """The cost of ``usage`` in USD x 1e9, rounded half to even, never below 0."""
        read = usage.prompt_cache_read_tokens or 0
        write = usage.prompt_cache_write_tokens or 0
        audio_in = usage.prompt_audio_tokens or 0
        out = usage.completion_tokens or 0
        audio_out = usage.completion_audio_tokens or 0
        # As _Counts does: a negative count (a provider's bad usage) counts as 0.
        read, write = (read if read > 0 else 0), (write if write > 0 else 0)
        audio_in, audio_out = (audio_in if audio_in > 0 else 0), (audio_out if audio_out > 0 else 0)
        inp = usage.prompt_tokens or 0
        inp = inp if inp > 0 else 0
        out = out if out > 0 else 0
        total = (
            self.per_call
            + (inp - read - write - audio_in) * self.uncached_input
            + read * self.cache_read
            + write * self.cache_write
            + audio_in * self.input_audio
            + (out - audio_out) * self.output
            + audio_out * self.output_audio
        )
        divisor = self.divisor
        quotient, rest = divmod(total, divisor)
        twice = 2 * rest
        if twice > divisor or (twice == divisor and quotient & 1):
            quotient += 1
        return quotient if quotient > 0 else 0


@dataclass(frozen=True, slots=True)
class _Counts:
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    input_audio: int = 0
    output_audio: int = 0

    def as_price_usage(self) -> PriceUsage:
        return PriceUsage(
            input_tokens=self.input,
            output_tokens=self.output,
            cache_read_tokens=self.cache_read or None,
            cache_write_tokens=self.cache_write or None,
            input_audio_tokens=self.input_audio or None,
            output_audio_tokens=self.output_audio or None,
        )


def load_prices() -> None:
    """Load genai-prices' price table now, not at the first call priced.

    It is ~16,000 objects the collector tracks, alive for good: loaded as the server starts,
    they are frozen with the rest of startup (``cli._gc``), not traversed by every full
    collection while calls are relayed.
    """
    data_snapshot.get_snapshot()


def _exact(counts: _Counts, model: str, price_id: str | None) -> Decimal:
    return calc_price(counts.as_price_usage(), model, provider_id=price_id).total_price


_PROBES = (
    _Counts(input=1234, output=567, cache_read=200, cache_write=30, input_audio=4, output_audio=5),
    _Counts(input=987_654, output=43_210, cache_read=500_000),
)


@lru_cache(maxsize=4096)
def _linear_price(model: str, price_id: str | None) -> _IntPrice | None | bool:
    """Per-unit prices of a model; None if unknown to genai-prices; False if not linear."""
    try:
        base = _exact(_Counts(), model, price_id)
    except LookupError:
        return None
    try:

        def unit(counts: _Counts) -> Decimal:
            return (_exact(counts, model, price_id) - base) / _M

        linear = _LinearPrice(
            per_call=base,
            uncached_input=unit(_Counts(input=_M)),
            cache_read=unit(_Counts(input=_M, cache_read=_M)),
            cache_write=unit(_Counts(input=_M, cache_write=_M)),
            input_audio=unit(_Counts(input=_M, input_audio=_M)),
            output=unit(_Counts(output=_M)),
            output_audio=unit(_Counts(output=_M, output_audio=_M)),
        )
        for probe in _PROBES:
            if abs(linear.total(probe) - _exact(probe, model, price_id)) > Decimal("1e-9"):
                return False
    except (LookupError, ValueError) as exc:  # a unit this model cannot price alone
        logger.debug("general pricing for %s: %s", model, exc)
        return False
    return _IntPrice.of(linear)


def cost_nano_usd(provider: ProviderFormat, model: str, usage: Usage) -> int | None:
    """The call's cost in USD x 1e9, or None when the model's price is unknown."""
    if not model or (usage.prompt_tokens is None and usage.completion_tokens is None):
        return None
    linear = _linear_price(model, provider.price_id)
    if linear is None:
        return None
    if isinstance(linear, _IntPrice):
        return linear.nano_usd(usage)
    # genai-prices counts cache reads and writes inside input_tokens, as our prompt_tokens does.
    counts = _Counts(
        input=max(usage.prompt_tokens or 0, 0),
        output=max(usage.completion_tokens or 0, 0),
        cache_read=max(usage.prompt_cache_read_tokens or 0, 0),
        cache_write=max(usage.prompt_cache_write_tokens or 0, 0),
        input_audio=max(usage.prompt_audio_tokens or 0, 0),
        output_audio=max(usage.completion_audio_tokens or 0, 0),
    )
    try:
        total = _exact(counts, model, provider.price_id)
    except (LookupError, ValueError) as exc:
        logger.debug("no price for %s/%s: %s", provider.name, model, exc)
        return None
    return max(0, int((total * _NANO_USD).to_integral_value()))
