"""Every table module, imported so that ``metadata`` knows every table.

Alembic's environment, the migration test and the tests' truncation read ``metadata`` from here.
Each feature area defines its tables in its own ``_schema_<area>.py`` on the shared ``metadata``
and adds one import below.
"""

from helioscope.store import (
    _schema_experiments,  # noqa: F401  (datasets, evaluators, scores, experiments)
    _schema_gateway,  # noqa: F401  (gateway controls: response cache)
    _schema_insights,  # noqa: F401  (registers its tables)
    _schema_prompts,  # noqa: F401
    _schema_vault,  # noqa: F401  (provider keys, proxy keys)
)
from helioscope.store._schema import metadata

__all__ = ["metadata"]
