"""The REST API: Helicone's routes over the store, each router thin."""

from fastapi import APIRouter

from helioscope.api import (
    dashboard,
    evals,
    evaluator,
    metrics,
    property,
    request,
    session,
    settings,
    user,
    webhooks,
)
from helioscope.api.dataset import experiment_dataset as dataset_legacy
from helioscope.api.dataset import helicone_dataset as dataset
from helioscope.api.envelope import install_error_handlers
from helioscope.api.experiment import v2 as experiment
from helioscope.api.helioscope import experiments as helioscope_experiments
from helioscope.api.helioscope import requests as helioscope_requests
from helioscope.api.helioscope import sessions as helioscope_sessions
from helioscope.api.log import trace as asynclog
from helioscope.api.prompt import legacy as prompt
from helioscope.api.prompt import prompt_2025

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
