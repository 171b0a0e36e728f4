"""``helioscope import helicone``: a Helicone organization's history, copied into the local store.

Requests come from ``/v1/request/query`` with their bodies (from ``signed_body_url`` when the
source keeps bodies apart, as Helicone does in S3), feedback and scores; then session tags,
prompts (2025 and legacy, with every version) and datasets. Rows go through the log writer's
write path; everything keeps its source id, so a second run updates rather than duplicates. A
checkpoint file makes an interrupted run resumable, and 429s are waited out (``Retry-After``).
"""

from helioscope.helicone_import._checkpoint import CheckpointMismatch
from helioscope.helicone_import._client import HeliconeClient, SourceError, retry_after_seconds
from helioscope.helicone_import._context import Progress, SilentProgress, Tally
from helioscope.helicone_import.run import (
    DEFAULT_BASE_URL,
    ImportOptions,
    ImportResult,
    run_import,
)

__all__ = [
    "CheckpointMismatch",
    "DEFAULT_BASE_URL",
    "HeliconeClient",
    "ImportOptions",
    "ImportResult",
    "Progress",
    "SilentProgress",
    "SourceError",
    "Tally",
    "retry_after_seconds",
    "run_import",
]
