"""The storage seam. Nothing outside this package imports SQLAlchemy or builds SQL."""

from helioscope.store._keys import hash_api_key
from helioscope.store._store import Store, is_transient
from helioscope.store.records import ApiKey, LogRow, NewApiKey, Organization

__all__ = [
    "ApiKey",
    "LogRow",
    "NewApiKey",
    "Organization",
    "Store",
    "hash_api_key",
    "is_transient",
]
