"""The gateway: routes provider calls upstream and captures each one for the log."""

from helioscope.gateway._prompts import PromptApplier
from helioscope.gateway._proxy import Gateway, Route

__all__ = ["Gateway", "PromptApplier", "Route"]
