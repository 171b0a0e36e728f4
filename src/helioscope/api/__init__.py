"""The REST API: Helicone's routes over the store, each router thin, and the one route table.

``API`` is the map from a URL to a file, and the one place that says what each operation
needs (``access.Need``): every resource module exposes its routers by need (``reads``,
``writes``, ``admin``, ``logs``, ``public``), and nothing is served that is not listed here.
One check (``access.admit``) enforces the declaration before the body is read. Within a
resource, reads come first: routes match in this order, and ``/v1/evals/query`` must not be
taken for ``/v1/evals/{requestId}``.
"""

from fastapi import FastAPI

from helioscope.api import (
    alerts,
    api_keys,
    comparison,
    customer,
    dashboard,
    dataisbeautiful,
    evals,
    evaluator,
    health,
    integration,
    metrics,
    models,
    property,
    provider_keys,
    request,
    security,
    session,
    settings,
    status,
    user,
    vault,
    webhook_score,
    webhooks,
)
from helioscope.api.access import SCOPE_EXTENSION, Declared, Need, Operations, declare
from helioscope.api.dataset import experiment_dataset, helicone_dataset
from helioscope.api.envelope import error_schemas, install_error_handlers
from helioscope.api.experiment import evaluators, v1, v1_query, v1_table, v2, v2_runs
from helioscope.api.helioscope import datasets, experiments, requests, sessions
from helioscope.api.log import feedback, trace, worker
from helioscope.api.prompt import legacy, prompt_2025

PUBLIC, READ, WRITE, LOG, ALL, KEY = (
    Need.PUBLIC,
    Need.READ,
    Need.WRITE,
    Need.LOG,
    Need.ALL,
    Need.KEY,
)

API: tuple[tuple[Operations, Need], ...] = (
    (health.public, PUBLIC),  # liveness and readiness probes: no key, nothing secret
    # Logging without the proxy (the gateway's own routes are in app.py's dispatch table).
    (worker.ROUTES, LOG),
    (trace.logs, LOG),
    (feedback.writes, WRITE),
    # The request log
    (request.reads, READ),
    (request.writes, WRITE),
    (request.public, PUBLIC),  # the signed, expiring body links: the URL is the credential
    (session.reads, READ),
    (session.writes, WRITE),
    (metrics.reads, READ),
    (dashboard.reads, READ),
    (property.reads, READ),
    (property.writes, WRITE),
    (user.reads, READ),
    (customer.reads, READ),
    (evals.reads, READ),
    (evals.writes, WRITE),
    (webhook_score.writes, WRITE),
    # Prompts
    (legacy.reads, READ),
    (legacy.writes, WRITE),
    (prompt_2025.reads, READ),
    (prompt_2025.writes, WRITE),
    (prompt_2025.public, PUBLIC),
    # Datasets, evaluators, experiments
    (helicone_dataset.reads, READ),
    (helicone_dataset.writes, WRITE),
    (experiment_dataset.reads, READ),
    (experiment_dataset.writes, WRITE),
    (evaluator.reads, READ),
    (evaluator.writes, WRITE),
    (evaluators.reads, READ),
    (evaluators.writes, WRITE),
    (v2.reads, READ),
    (v2.writes, WRITE),
    (v2_runs.reads, READ),
    (v2_runs.writes, WRITE),
    (v1.reads, READ),
    (v1.writes, WRITE),
    (v1_query.reads, READ),
    (v1_table.reads, READ),
    (v1_table.writes, WRITE),
    # Settings, keys and where Helioscope sends data
    (settings.reads, READ),
    (api_keys.admin, ALL),  # so that no key can mint a wider one
    (webhooks.admin, ALL),  # a webhook sends the log out; the list shows its signing keys
    (alerts.reads, READ),
    (alerts.admin, ALL),  # an alert posts to a webhook
    # Integrations: the channel list first (its fixed path before /{integrationId}); the rest
    # returns or changes settings that hold Slack's webhook URLs.
    (integration.reads, READ),
    (integration.admin, ALL),
    # Provider keys (BYOK) and the AI Gateway's models (the endpoints are in app.py's table)
    (vault.admin, ALL),  # the vault returns decrypted keys
    (provider_keys.admin, ALL),
    (models.reads, KEY),  # any key: a proxy-only (w) key may list what it can call
    # Helicone's public statistics, computed over the caller's organization (so they need a key)
    (status.reads, READ),
    (comparison.reads, READ),
    (dataisbeautiful.reads, READ),
    (security.reads, KEY),  # any key: it reads nothing of the organization
    # Helioscope's own routes for the UI (/v1/helioscope/...)
    (requests.reads, READ),
    (sessions.reads, READ),
    (datasets.reads, READ),
    (experiments.reads, READ),
    (experiments.writes, WRITE),
)

DECLARED: Declared = declare(API)


def install_api(app: FastAPI) -> None:
    """Serve the table's FastAPI routes on ``app``, rendering errors as Helicone's envelope.

    The raw routes (``DECLARED.raw``) are served by the app's dispatch table, ahead of FastAPI.
    """
    install_error_handlers(app)
    app.router.routes.extend(DECLARED.routes)


__all__ = ["API", "DECLARED", "SCOPE_EXTENSION", "Need", "error_schemas", "install_api"]
