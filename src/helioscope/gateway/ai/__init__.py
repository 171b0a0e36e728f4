"""The AI Gateway: one OpenAI-compatible endpoint for every provider (see ``_gateway``)."""

from helioscope.gateway.ai._gateway import AI_ROUTES, REFERRER, AiGateway, AiRoute
from helioscope.gateway.ai._routing import Router, Target, parse_model_string

__all__ = [
    "AI_ROUTES",
    "REFERRER",
    "AiGateway",
    "AiRoute",
    "Router",
    "Target",
    "parse_model_string",
]
