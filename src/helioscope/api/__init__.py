"""The REST API: Helicone's routes over the store, each router thin."""

from fastapi import APIRouter

from helioscope.api import (
    asynclog,
    dashboard,
    dataset,
    dataset_legacy,
    evals,
    evaluator,
    experiment,
    helioscope_experiments,
    helioscope_requests,
    helioscope_sessions,
    metrics,
    models,
    prompt,
    prompt_2025,
    property,
    provider_keys,
    request,
    session,
    settings,
    user,
    vault,
    webhooks,
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
    settings.settings_router,
    settings.keys_router,
    provider_keys.router,
    vault.router,
    models.router,
    webhooks.webhooks_router,
    webhooks.alerts_router,
    webhooks.score_router,
    prompt.router,
    prompt_2025.router,
    dataset.router,
    dataset_legacy.router,
    evaluator.router,
    evals.router,
    *experiment.ROUTERS,
    helioscope_requests.router,
    helioscope_sessions.router,
    helioscope_experiments.router,
)

__all__ = ["ROUTERS", "install_error_handlers"]
