"""The gateway: routes provider calls upstream and captures each one for the log."""

from helioscope.gateway._inflight import InflightCaps, total_cap
from helioscope.gateway._prompts import PromptApplier
from helioscope.gateway._proxy import Gateway, Route
from helioscope.gateway.ai import AI_ROUTES, AiGateway, AiRoute

__all__ = [
    "AI_ROUTES",
    "AiGateway",
    "AiRoute",
    "Gateway",
    "InflightCaps",
    "PromptApplier",
    "Route",
    "total_cap",
]
