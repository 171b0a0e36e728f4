"""From a finished call to a stored log row: usage, cost, properties, and the batch writer."""

from helioscope.ingest._ids import new_request_id
from helioscope.ingest._journal_locks import JournalInUse, check_free, claim_journal
from helioscope.ingest._old_spool import adopt_old_spool, old_spool_dir, warn_removed_settings
from helioscope.ingest._other_journals import warn_of_other_journals
from helioscope.ingest._pause import collector_paused
from helioscope.ingest._writer import LogWriter
from helioscope.ingest.alerts import AlertEvaluator
from helioscope.ingest.capture import (
    STATUS_CLIENT_CANCELLED,
    STATUS_THREAT,
    STATUS_TIMEOUT,
    CallCapture,
    build_log_row,
    call_cost_nano_usd,
)
from helioscope.ingest.headers import HeliconeHeaders, is_valid_request_id
from helioscope.ingest.webhooks import WebhookDispatcher, check_destination

__all__ = [
    "STATUS_CLIENT_CANCELLED",
    "STATUS_THREAT",
    "STATUS_TIMEOUT",
    "AlertEvaluator",
    "CallCapture",
    "HeliconeHeaders",
    "JournalInUse",
    "LogWriter",
    "WebhookDispatcher",
    "adopt_old_spool",
    "build_log_row",
    "call_cost_nano_usd",
    "check_destination",
    "check_free",
    "claim_journal",
    "collector_paused",
    "is_valid_request_id",
    "new_request_id",
    "old_spool_dir",
    "warn_of_other_journals",
    "warn_removed_settings",
]
