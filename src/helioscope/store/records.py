"""Plain records that cross the store's boundary. No SQLAlchemy types leak out of ``store/``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Organization:
    """An organization: the unit every query is scoped to."""

    id: str
    name: str
    created_at: dt.datetime


@dataclass(slots=True, frozen=True)
class ApiKey:
    """A stored API key (its hash only) and what it may do."""

    id: int
    organization_id: str
    name: str
    permissions: str  # "rw", "r" or "w"


@dataclass(slots=True, frozen=True)
class NewApiKey:
    """A key just created: the clear text exists only here, once."""

    id: int
    organization_id: str
    key: str


@dataclass(slots=True)
class LogRow:
    """One logged call, ready to be written to the request log."""

    request_id: str
    organization_id: str
    request_created_at: dt.datetime
    status: int
    provider: str
    model: str = ""
    response_created_at: dt.datetime | None = None
    latency: int | None = None
    time_to_first_token: int | None = None
    request_model: str | None = None
    response_model: str | None = None
    model_override: str | None = None
    user_id: str | None = None
    target_url: str | None = None
    path: str | None = None
    is_stream: bool = False
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    prompt_cache_read_tokens: int | None = None
    prompt_cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    prompt_audio_tokens: int | None = None
    completion_audio_tokens: int | None = None
    cost: int | None = None  # USD x 1e9, the stored unit (see ``store.cost``)
    cache_enabled: bool = False
    cache_reference_id: str | None = None
    threat: bool | None = None
    country_code: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    scores: dict[str, Any] = field(default_factory=dict)
    prompt_id: str | None = None
    prompt_version: str | None = None
    request_body: str | None = None
    response_body: str | None = None
    request_body_size: int | None = None
    response_body_size: int | None = None
    request_referrer: str | None = None
    helicone_api_key_id: int | None = None
    error: str | None = None
    prompt_inputs: dict[str, Any] | None = None


# Prompts


@dataclass(slots=True)
class LegacyPrompt:
    """A legacy prompt (Helicone's ``prompt_v2``)."""

    id: str
    organization_id: str
    user_defined_id: str
    description: str | None
    pretty_name: str | None
    metadata: dict[str, Any]
    created_at: dt.datetime


@dataclass(slots=True)
class PromptVersion:
    """A legacy prompt version (``prompts_versions``): a template and its numbering.

    ``prompt_id`` is the ``prompt_v2`` id; ``helicone_template`` is the stored JSON template
    (an OpenAI-style body whose inputs are ``<helicone-prompt-input key="…" />`` tags).
    """

    id: str
    prompt_id: str
    organization_id: str
    major_version: int
    minor_version: int
    model: str
    helicone_template: Any
    metadata: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    parent_prompt_version: str | None = None
    experiment_id: str | None = None

    @property
    def is_production(self) -> bool:
        """True for the version calls use by default."""
        return bool(self.metadata.get("isProduction"))


@dataclass(slots=True)
class Prompt2025:
    """A 2025 prompt: a name, tags and the id of its production version."""

    id: str
    organization_id: str
    name: str
    tags: list[str]
    production_version: str | None
    created_at: dt.datetime


@dataclass(slots=True)
class Prompt2025Version:
    """A 2025 prompt version: an OpenAI chat body with ``{{hc:…}}`` variables."""

    id: str
    prompt_id: str
    organization_id: str
    major_version: int
    minor_version: int
    commit_message: str
    model: str
    environments: list[str]
    prompt_body: dict[str, Any]
    created_at: dt.datetime
    created_by: str | None = None
    body_token: str = ""  # the secret of the body's credential-free URL


@dataclass(slots=True)
class InputRecord:
    """The inputs of one call (or one hand-made row) of a prompt version."""

    id: str
    prompt_version: str
    inputs: dict[str, Any]
    auto_prompt_inputs: list[Any] = field(default_factory=list)
    source_request: str | None = None
    created_at: dt.datetime | None = None
    request_body: str | None = None
    response_body: str | None = None


# Datasets copied in from another Helicone-compatible server


@dataclass(frozen=True, slots=True)
class ImportedDataset:
    """A dataset as its source lists it."""

    id: str
    name: str | None
    dataset_type: str
    meta: Any
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ImportedDatasetRow:
    """One row of a dataset: a logged request, with edited bodies when the source has them."""

    id: str
    origin_request_id: str
    created_at: dt.datetime
    request_body: str | None = None
    response_body: str | None = None


@dataclass(frozen=True, slots=True)
class StoredProviderKey:
    """A provider key as stored: its ciphertext, never the key (``helioscope.vault`` seals it)."""

    id: str
    organization_id: str
    provider_name: str
    name: str
    encrypted_key: bytes
    config: dict[str, str] = field(default_factory=dict)
    active: bool = True
    created_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class KeyChange:
    """What a provider key's update changes; None leaves a field as it is."""

    name: str | None = None
    encrypted_key: bytes | None = None
    config: dict[str, str] | None = None
    active: bool | None = None
