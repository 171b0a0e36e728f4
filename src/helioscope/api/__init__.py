"""The REST API: Helicone's routes over the store, each router thin."""

from fastapi import APIRouter

from helioscope.api import (
    asynclog,
    dashboard,
    metrics,
    prompt,
    prompt_2025,
    property,
    request,
    session,
    user,
)
from helioscope.api.envelope import install_error_handlers

ROUTERS: tuple[APIRouter, ...] = (
    request.router,
    session.router,
    asynclog.router,
    metrics.router,
    dashboard.router,
    property.router,
    user.router,
)
ROUTERS += (prompt.router, prompt_2025.router)

__all__ = ["ROUTERS", "install_error_handlers"]
