"""The storage seam. Nothing outside this package imports SQLAlchemy or builds SQL."""

from helioscope.store._keys import hash_api_key
from helioscope.store._requests import MAX_OFFSET, MAX_PAGE, RequestQuery
from helioscope.store._scores import EvalQuery
from helioscope.store._sessions import SESSION_LIMIT, SessionQuery
from helioscope.store._store import Store, is_transient
from helioscope.store._timeseries import Buckets, TimeWindow
from helioscope.store._users import MAX_USERS_PAGE, UserQuery
from helioscope.store._vault import KeyChange, StoredProviderKey
from helioscope.store.records import ApiKey, LogRow, NewApiKey, Organization

__all__ = [
    "MAX_OFFSET",
    "MAX_PAGE",
    "MAX_USERS_PAGE",
    "SESSION_LIMIT",
    "ApiKey",
    "Buckets",
    "EvalQuery",
    "KeyChange",
    "LogRow",
    "NewApiKey",
    "Organization",
    "RequestQuery",
    "SessionQuery",
    "StoredProviderKey",
    "Store",
    "TimeWindow",
    "UserQuery",
    "hash_api_key",
    "is_transient",
]
