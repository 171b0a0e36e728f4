"""Helioscope: a self-hosted LLM observability platform and gateway, wire-compatible with Helicone.

The public surface is small: ``create_app(settings)`` builds the ASGI app, ``Settings`` configures
it. Everything else is internal and may change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Settings", "__version__", "create_app"]

if TYPE_CHECKING:
    from helioscope.app import create_app
    from helioscope.config import Settings


def __getattr__(name: str) -> Any:
    # Imported on first use: the app pulls in every API module (~2 s of imports), which a CLI
    # command such as `helioscope keys create`, or the fake provider, never needs.
    if name == "create_app":
        from helioscope.app import create_app

        return create_app
    if name == "Settings":
        from helioscope.config import Settings

        return Settings
    raise AttributeError(f"module 'helioscope' has no attribute {name!r}")
