"""Settings: declared once, typed and documented, read from ``HELIOSCOPE_*`` environment variables.

No other module reads ``os.environ``. ``create_app(settings)`` receives a ``Settings`` instance;
there is no module-global one.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything Helioscope can be configured with."""

    # Errors name the setting, never its value: values hold secrets (HELIOSCOPE_SECRET_KEY,
    # passwords in database URLs).
    model_config = SettingsConfigDict(
        env_prefix="HELIOSCOPE_", extra="ignore", hide_input_in_errors=True
    )

    database_url: str = Field(
        default="sqlite:///helioscope.db",
        description=(
            "Where all state lives. `sqlite:///path.db` (the default, relative to the working "
            "directory) or `postgresql://user:pass@host:5432/db`."
        ),
    )
    clickhouse_url: str | None = Field(
        default=None,
        description=(
            "Keep the request log in ClickHouse: `chdb:///path/to/dir` (embedded, in this "
            "process) or `http(s)://user:pass@host:8123/db` (a server or ClickHouse Cloud). "
            "Needs `pip install 'helioscope[clickhouse]'`. Everything else stays in the "
            "database. Unset: the database keeps the log too."
        ),
    )
    clickhouse_cluster: str | None = Field(
        default=None,
        description=(
            "ClickHouse cluster name: tables are created `ON CLUSTER` as replicated tables "
            "behind a Distributed table (see the store README). Unset: one server."
        ),
    )
    log_retention_days: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Delete logged requests older than this many days (ClickHouse: a TTL; SQLite/"
            "PostgreSQL: a periodic delete). Unset: keep everything."
        ),
    )
    host: str = Field(default="127.0.0.1", description="Interface the server listens on.")
    port: int = Field(default=8585, ge=0, le=65535, description="Port the server listens on.")
    openai_base_url: str = Field(
        default="https://api.openai.com",
        description="Upstream origin for the `/oai` and `/openai` routes.",
    )
    anthropic_base_url: str = Field(
        default="https://api.anthropic.com",
        description="Upstream origin for the `/anthropic` route.",
    )
    google_base_url: str = Field(
        default="https://generativelanguage.googleapis.com",
        description="Upstream origin of Google Gemini calls made through the AI Gateway.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        min_length=16,
        description=(
            "Server secret that encrypts stored provider keys (AES-GCM, key derived with "
            "HKDF); for example the output of `openssl rand -base64 32`. Unset: the vault "
            "refuses to store keys. Changing it makes stored keys unreadable."
        ),
    )
    country_code_header: str = Field(
        default="cf-ipcountry",
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9-]+$",
        description=(
            "Request header holding the client's country code, set by a proxy in front of "
            "Helioscope (for example a load balancer's geo header); recorded on each log row as "
            "`country_code`. Cloudflare's `CF-IPCountry` is read when this one is absent."
        ),
    )
    signed_url_seconds: int = Field(
        default=3600,
        gt=0,
        le=7 * 24 * 3600,
        description=(
            "How long a request's `signed_body_url` stays valid: the link serves the stored "
            "request and response bodies without an API key until then."
        ),
    )
    upstream_timeout_seconds: float = Field(
        default=1800.0,
        gt=0,
        description="Time allowed for one upstream call, streams included (Helicone: 30 min).",
    )
    journal_dir: Path | None = Field(
        default=None,
        description=(
            "Directory of the log journal: every log record is appended here before it is "
            "stored, and kept until it is (a restart resumes from it). Defaults to "
            "`<database file>.journal` for SQLite and `./helioscope-journal` otherwise."
        ),
    )
    journal_fsync_ms: int = Field(
        default=100,
        ge=0,
        description=(
            "How often the journal is synced to disk, in ms (0: after every batch of appends). "
            "A crash of the process loses nothing either way; this bounds what a power loss can."
        ),
    )
    journal_segment_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=4096,
        description="Size at which a journal segment file is closed and a new one started.",
    )
    journal_max_bytes: int = Field(
        default=10 * 1024 * 1024 * 1024,
        ge=1,
        description=(
            "Most bytes the journal may hold (the store down or behind). Past it, new records "
            "keep every field but their bodies (flagged with the property "
            "`helioscope-bodies-dropped`, counted in /health/ready); calls are never refused."
        ),
    )
    worker_id: str = Field(
        default="0",
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description=(
            "This process's name among `serve --workers` (each worker has its own journal "
            "under the journal directory). Set by `serve --workers`."
        ),
    )
    log_writer: bool = Field(
        default=True,
        description=(
            "Whether this process runs the log writer, which drains every worker's journal "
            "(exactly one process does). Set by `serve --workers`."
        ),
    )
    log_memory_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024 * 1024,
        description=(
            "Most bytes of log records the writer holds in memory at once, whatever the "
            "traffic and the body sizes."
        ),
    )
    log_batch_size: int = Field(
        default=2000,
        ge=1,
        # Batches only grow this large under load (the linger decides otherwise); then larger
        # transactions cut per-batch work (session totals, commits): bench/ingest.py measured
        # 4.99k logs/s stored at 500 and 5.88k at 2000 on SQLite, 4.99k and 5.60k on PostgreSQL.
        description="Most log records written in one transaction.",
    )
    log_flush_interval_seconds: float = Field(
        # Each batch has a fixed cost (a transaction, the replay check, the journal position,
        # reading the journals): at 1,000 calls/s, 0.2 s instead of 0.05 s cut the gateway's
        # CPU per call from 459-507 to 383-424 us (bench/gateway.py --rate 1000, issue 19).
        default=0.2,
        ge=0,
        description=(
            "How long the writer lets log records gather before writing a batch. Longer means "
            "fewer, larger transactions; records reach the store at most this much later."
        ),
    )
    log_retry_seconds: float = Field(
        default=1.0,
        gt=0,
        description="First wait before retrying a failed log write; doubles up to 30 s.",
    )
    shutdown_drain_seconds: float = Field(
        default=30.0,
        ge=0,
        description=(
            "How long shutdown waits for journalled log records to reach the store; the rest "
            "stay in the journal for the next start."
        ),
    )
    max_request_body_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1,
        description=(
            "Largest request body the gateway accepts (Helicone: 10 MB); the async log routes "
            "take the same."
        ),
    )
    allowed_private_targets: str = Field(
        default="",
        description=(
            "Comma-separated origins that gateway targets (`Helicone-Target-URL`, fallbacks) "
            "and webhooks may reach although they resolve to a private, loopback or link-local "
            "address, e.g. `http://localhost:11434`; `http://127.0.0.1:*` allows any port. The "
            "configured provider base URLs and `HELIOSCOPE_SELF_URL` are allowed without it."
        ),
    )
    max_inflight_per_org: int = Field(
        default=256,
        ge=1,
        description=(
            "Most gateway calls one organization may have in flight at once; more are "
            "answered 429, as a rate limit is."
        ),
    )
    max_inflight_calls: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Most gateway calls in flight at once, in all; more are answered 503. Default: "
            "what the process's descriptor limit leaves after 256 kept for the API and health "
            "(two per call)."
        ),
    )
    client_header_timeout_seconds: float = Field(
        default=15.0,
        gt=0,
        description=(
            "Time a client has to send a request's headers, from connecting or from its first "
            "byte; slower connections are closed (slowloris)."
        ),
    )
    client_body_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Longest pause allowed while a client sends a request body.",
    )
    client_keepalive_seconds: int = Field(
        default=5,
        ge=1,
        description="Time an idle keep-alive connection from a client stays open.",
    )
    max_api_body_bytes: int = Field(
        default=2 * 1024 * 1024,
        ge=1,
        description=(
            "Largest request body the REST API accepts (the async log routes excepted). A "
            "larger body is refused with 413 before a byte of it is read."
        ),
    )
    raise_internal_errors: bool = Field(
        default=False,
        description=(
            "Re-raise errors inside logging instead of reporting them. Tests turn this on so "
            "that no bug hides behind the guard that protects the proxied call."
        ),
    )
    # Gateway controls
    redis_url: str | None = Field(
        default=None,
        description=(
            "Redis for the gateway's cache and rate-limit buckets, shared by every replica "
            "(`redis://host:6379/0`). Unset: the cache lives in the database and buckets in "
            "the process."
        ),
    )
    redis_key_prefix: str = Field(
        default="helioscope:", description="Prefix of every Redis key Helioscope writes."
    )
    prompt_injection_detector: str | None = Field(
        default=None,
        description=(
            "`package.module:factory` returning the detector behind Helicone-LLM-Security-"
            "Enabled (an object with `async detect(text)`). Unset: the built-in local one."
        ),
    )
    bootstrap_default_org: bool = Field(
        default=True,
        description=(
            "On first start with an empty store, create a `default` organization and print "
            "one API key."
        ),
    )
    webhook_allow_http_loopback: bool = Field(
        default=False,
        description=(
            "Let webhooks use plain `http://` to a loopback host (local receivers and tests); "
            "the host must also be in `HELIOSCOPE_ALLOWED_PRIVATE_TARGETS`. Otherwise "
            "destinations must be `https://`."
        ),
    )
    webhook_max_attempts: int = Field(
        default=5, ge=1, description="Deliveries tried per webhook call before giving up."
    )
    webhook_retry_seconds: float = Field(
        default=1.0,
        gt=0,
        description="First wait before retrying a failed webhook delivery; doubles each time.",
    )
    webhook_timeout_seconds: float = Field(
        default=120.0, gt=0, description="Time allowed for one webhook delivery (Helicone: 2 min)."
    )
    alert_check_seconds: float = Field(
        default=60.0,
        ge=0,
        description="How often alerts are evaluated; 0 turns the background check off.",
    )
    # Experiments and evaluators
    self_url: str | None = Field(
        default=None,
        description=(
            "Base URL at which Helioscope reaches its own gateway for experiment and evaluator "
            "calls (so they are logged like any call). Defaults to `http://127.0.0.1:<port>`."
        ),
    )
    experiment_openai_api_key: SecretStr | None = Field(
        default=None,
        description=(
            "Provider key that experiment runs and LLM-as-judge evaluators send upstream "
            "(OpenAI-compatible route). Forwarded per call; never stored or logged."
        ),
    )
    experiment_anthropic_api_key: SecretStr | None = Field(
        default=None,
        description=(
            "Provider key that experiment cells of Anthropic prompt versions send upstream "
            "(Anthropic route, as `x-api-key`). Forwarded per call; never stored or logged."
        ),
    )
    experiment_concurrency: int = Field(
        default=8, ge=1, description="Most experiment cells or evaluations running at once."
    )
    evaluator_model: str = Field(
        default="gpt-4o-mini",
        description="Model of LLM-as-judge evaluators whose template names none.",
    )
    evaluator_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Wall-clock and CPU time allowed to one code evaluation."
    )
    evaluator_memory_mb: int = Field(
        default=256, ge=32, description="Address space allowed to one code evaluation, in MB."
    )
    unsafe_python_evaluators: bool = Field(
        default=False,
        description=(
            "Run Python evaluators even where the kernel has no Landlock, behind an audit hook "
            "alone (best effort: code written to defeat it can read the server's files and "
            "secrets). Off: such evaluations are refused, and the result says why."
        ),
    )

    # A malformed URL is refused here, as one line naming the setting (``cli.main``): found
    # later, by the driver, it ended a command with a traceback (and its message quoted the
    # URL, password included). Only the shape is checked: reaching the store is the store's.
    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, url: str) -> str:
        schemes = {"sqlite": "", "postgresql": "", "postgres": ""}
        return _checked_url(url, schemes, "sqlite:///path.db or postgresql://user:pass@host/db")

    @field_validator("clickhouse_url")
    @classmethod
    def _clickhouse_url_shape(cls, url: str | None) -> str | None:
        extra = "clickhouse_connect"  # (chdb:// needs chdb as well, from the same extra)
        needs = {"chdb": "chdb", "http": extra, "https": extra}
        shape = "chdb:///dir or http(s)://user:pass@host:8123/db"
        return None if url is None else _checked_url(url, needs, shape)

    @field_validator("redis_url")
    @classmethod
    def _redis_url_shape(cls, url: str | None) -> str | None:
        schemes = {"redis": "", "rediss": "", "unix": ""}
        return None if url is None else _checked_url(url, schemes, "redis://host:6379/0")

    def egress_allowed(self) -> list[str]:
        """The origins the egress policy allows whatever their address: the configured ones."""
        listed = [origin.strip() for origin in self.allowed_private_targets.split(",")]
        configured = [self.openai_base_url, self.anthropic_base_url, self.google_base_url]
        if self.self_url:
            configured.append(self.self_url)
        return [origin for origin in configured + listed if origin]


def _checked_url(url: str, schemes: dict[str, str], shape: str) -> str:
    """``url`` if its scheme is one of ``schemes`` and its port a number; else ValueError.

    ``schemes`` maps each to the module it needs (an extra: ``helioscope[clickhouse]``), or
    "". The message never quotes the URL (it may hold a password), but ``shape``, an example.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.split("+")[0]  # (a driver named: postgresql+asyncpg://)
    if scheme not in schemes or "://" not in url:
        raise ValueError(f"not a URL of the form {shape}")
    try:
        parts.port  # noqa: B018 (parsed when read)
    except ValueError:
        raise ValueError(f"its port is not a number from 0 to 65535 (the form: {shape})") from None
    module = schemes[scheme]
    if module and importlib.util.find_spec(module) is None:
        raise ValueError(
            f"{scheme}:// needs {module}, not installed: pip install 'helioscope[clickhouse]'"
        )
    return url
