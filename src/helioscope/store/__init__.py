"""The storage seam. Nothing outside this package imports SQLAlchemy or builds SQL.

Callers run query functions through the store's runners (see ``_store.Store``):
``await store.org(org_id).read(module.fn, *args)``. The modules are ``keys``,
``notifications``, ``provider_keys``, ``experiments.*``, ``prompts.*`` and ``log.*``.
"""

from helioscope.store._runner import Db, OrgDb, OrgRunner, Runner
from helioscope.store._store import (
    UNAVAILABLE_ERRORS,
    Store,
    StoreRefused,
    is_refused,
    is_transient,
)
from helioscope.store.cost import NANO_USD
from helioscope.store.keys import hash_api_key
from helioscope.store.log.pages import LogCursor, LogPageQuery
from helioscope.store.log.requests import MAX_OFFSET, MAX_PAGE, RequestQuery
from helioscope.store.log.scores import EvalQuery
from helioscope.store.log.session_list import SessionPage
from helioscope.store.log.sessions import SESSION_LIMIT, SessionQuery
from helioscope.store.log.timeseries import MAX_TZ_MINUTES, Buckets, TimeWindow
from helioscope.store.log.users import MAX_USERS_PAGE, UserQuery
from helioscope.store.records import (
    ApiKey,
    ImportedDataset,
    ImportedDatasetRow,
    InputRecord,
    KeyChange,
    LegacyPrompt,
    LogRow,
    NewApiKey,
    Organization,
    Prompt2025,
    Prompt2025Version,
    PromptVersion,
    StoredProviderKey,
)

__all__ = [
    "MAX_OFFSET",
    "MAX_PAGE",
    "MAX_TZ_MINUTES",
    "MAX_USERS_PAGE",
    "NANO_USD",
    "SESSION_LIMIT",
    "ApiKey",
    "Buckets",
    "Db",
    "EvalQuery",
    "ImportedDataset",
    "ImportedDatasetRow",
    "InputRecord",
    "KeyChange",
    "LegacyPrompt",
    "LogCursor",
    "LogPageQuery",
    "LogRow",
    "NewApiKey",
    "OrgDb",
    "OrgRunner",
    "Organization",
    "Prompt2025",
    "Prompt2025Version",
    "PromptVersion",
    "RequestQuery",
    "Runner",
    "SessionPage",
    "SessionQuery",
    "StoredProviderKey",
    "Store",
    "StoreRefused",
    "TimeWindow",
    "UserQuery",
    "hash_api_key",
    "is_refused",
    "is_transient",
    "UNAVAILABLE_ERRORS",
]
