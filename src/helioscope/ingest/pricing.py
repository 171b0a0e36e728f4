"""Cost of a call in USD x 1e9 (Helicone's integer unit), from the genai-prices library.

genai-prices ships its price table inside the package, so pricing works offline. A model it does
not know costs ``None`` (unknown), never 0.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from functools import lru_cache

from genai_prices import Usage as PriceUsage
from genai_prices import calc_price

from helioscope.providers import ProviderFormat, Usage

logger = logging.getLogger("helioscope.pricing")

NANO_USD = Decimal(1_000_000_000)


@lru_cache(maxsize=4096)
def _is_unknown(model: str, price_id: str | None) -> bool:
    try:
        calc_price(PriceUsage(input_tokens=0, output_tokens=0), model, provider_id=price_id)
    except LookupError:
        return True
    return False


def cost_nano_usd(provider: ProviderFormat, model: str, usage: Usage) -> int | None:
    """The call's cost in USD x 1e9, or None when the model's price is unknown."""
    if not model or (usage.prompt_tokens is None and usage.completion_tokens is None):
        return None
    if _is_unknown(model, provider.price_id):
        return None
    # genai-prices counts cache reads and writes inside input_tokens, as our prompt_tokens does.
    price_usage = PriceUsage(
        input_tokens=max(usage.prompt_tokens or 0, 0),
        output_tokens=max(usage.completion_tokens or 0, 0),
        cache_read_tokens=usage.prompt_cache_read_tokens or None,
        cache_write_tokens=usage.prompt_cache_write_tokens or None,
        input_audio_tokens=usage.prompt_audio_tokens or None,
        output_audio_tokens=usage.completion_audio_tokens or None,
    )
    try:
        price = calc_price(price_usage, model, provider_id=provider.price_id)
    except (LookupError, ValueError) as exc:
        logger.debug("no price for %s/%s: %s", provider.name, model, exc)
        return None
    return max(0, int((price.total_price * NANO_USD).to_integral_value()))
