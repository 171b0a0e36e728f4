"""Helioscope: a self-hosted LLM observability platform and gateway, wire-compatible with Helicone.

The public surface is small: ``create_app(settings)`` builds the ASGI app, ``Settings`` configures
it. Everything else is internal and may change.
"""

__version__ = "0.1.0"

from helioscope.app import create_app
from helioscope.config import Settings

__all__ = ["Settings", "__version__", "create_app"]
