"""The providers the AI Gateway can route to: where each lives, how it authenticates, its format.

Written as data, one row per provider: a provider that speaks OpenAI's chat format needs only a
row (its base URL and the header its key goes in). Three wire formats cover them all: OpenAI's
(most providers and every local server), Anthropic's Messages API and Google's Gemini API.

A provider key may carry a ``config`` (Helicone's ``Record<string, string>``) that completes or
overrides its row: ``baseUrl`` (any provider, required by those without a fixed address),
``baseUri``/``deploymentName``/``apiVersion`` (Azure OpenAI) and ``models`` (model names the
key serves beyond the registry). A provider name no row knows, given with a ``baseUrl``, is an
OpenAI-compatible provider of the organization's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Wire(StrEnum):
    """A wire format: what bodies, streams and errors look like."""

    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"


class Auth(StrEnum):
    """Which header carries the provider key."""

    BEARER = "authorization"  # Authorization: Bearer <key>
    X_API_KEY = "x-api-key"
    API_KEY = "api-key"  # Azure OpenAI
    GOOGLE = "x-goog-api-key"


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """One provider the gateway routes to."""

    id: str  # as written after the slash of a model string: "anthropic"
    log_name: str  # Helicone's provider name in the log: "ANTHROPIC"
    wire: Wire
    base_url: str | None  # None: the key's config must give a baseUrl
    auth: Auth
    price_id: str | None  # genai-prices provider id; None: priced by model alone
    chat_path: str = "/v1/chat/completions"
    responses_path: str | None = None  # a native Responses API (else mapped to chat)
    headers: tuple[tuple[str, str], ...] = ()  # sent on every call
    model_prefix: bool = False  # the provider names models "<author>/<model>" (OpenRouter)

    def upstream_path(self, model: str, stream: bool, config: Mapping[str, str]) -> str:
        """The path (and query) of a chat call to ``model``."""
        if self.wire is Wire.GEMINI:
            action = "streamGenerateContent?alt=sse" if stream else "generateContent"
            return f"/v1beta/models/{model}:{action}"
        if self.id == "azure":
            deployment = config.get("deploymentName") or model
            version = config.get("apiVersion") or AZURE_API_VERSION
            return f"/openai/deployments/{deployment}/chat/completions?api-version={version}"
        return self.chat_path


AZURE_API_VERSION = "2024-10-21"
_ANTHROPIC_VERSION = ("anthropic-version", "2023-06-01")


def _compatible(
    id: str,
    log_name: str,
    base_url: str | None,
    price_id: str | None,
    *,
    auth: Auth = Auth.BEARER,
    responses_path: str | None = None,
    model_prefix: bool = False,
) -> ProviderSpec:
    """A provider that speaks OpenAI's chat format."""
    return ProviderSpec(
        id,
        log_name,
        Wire.OPENAI,
        base_url,
        auth,
        price_id,
        responses_path=responses_path,
        model_prefix=model_prefix,
    )


PROVIDERS: tuple[ProviderSpec, ...] = (
    _compatible(
        "openai", "OPENAI", "https://api.openai.com", "openai", responses_path="/v1/responses"
    ),
    ProviderSpec(
        "anthropic",
        "ANTHROPIC",
        Wire.ANTHROPIC,
        "https://api.anthropic.com",
        Auth.X_API_KEY,
        "anthropic",
        chat_path="/v1/messages",
        headers=(_ANTHROPIC_VERSION,),
    ),
    ProviderSpec(
        "google",
        "GOOGLE",
        Wire.GEMINI,
        "https://generativelanguage.googleapis.com",
        Auth.GOOGLE,
        "google",
    ),
    _compatible("azure", "AZURE", None, "azure", auth=Auth.API_KEY),
    _compatible("groq", "GROQ", "https://api.groq.com/openai", "groq"),
    _compatible("together", "TOGETHER", "https://api.together.xyz", "together"),
    _compatible("fireworks", "FIREWORKS", "https://api.fireworks.ai/inference", "fireworks"),
    _compatible("mistral", "MISTRAL", "https://api.mistral.ai", "mistral"),
    _compatible("deepseek", "DEEPSEEK", "https://api.deepseek.com", "deepseek"),
    _compatible("xai", "X", "https://api.x.ai", "x-ai"),
    _compatible("perplexity", "PERPLEXITY", "https://api.perplexity.ai", "perplexity"),
    _compatible(
        "openrouter", "OPENROUTER", "https://openrouter.ai/api", "openrouter", model_prefix=True
    ),
    _compatible("ollama", "LOCAL", "http://127.0.0.1:11434", None),
    _compatible("vllm", "LOCAL", None, None),
)
_BY_ID = {spec.id: spec for spec in PROVIDERS}
# Other spellings in use (Helicone's registry, the Rust gateway, provider docs).
_ALIASES = {
    "gemini": "google",
    "google-ai-studio": "google",
    "x-ai": "xai",
    "grok": "xai",
    "azure-openai": "azure",
}
PROVIDER_IDS = ", ".join(spec.id for spec in PROVIDERS)


def canonical_name(name: str) -> str:
    """The catalog id for a provider name as a user writes it (case and aliases folded)."""
    lowered = name.strip().lower()
    return _ALIASES.get(lowered, lowered)


def find_provider(name: str) -> ProviderSpec | None:
    """The catalog row of a provider name, or None when the catalog has no such provider."""
    return _BY_ID.get(canonical_name(name))


def custom_provider(name: str) -> ProviderSpec:
    """An organization's own OpenAI-compatible provider (its key's config gives the address)."""
    return _compatible(canonical_name(name), "CUSTOM", None, None)


class Catalog:
    """The catalog with this server's addresses for some providers (settings, tests)."""

    def __init__(self, base_urls: Mapping[str, str] | None = None) -> None:
        self._base_urls = {canonical_name(k): v.rstrip("/") for k, v in (base_urls or {}).items()}

    def known(self, name: str) -> bool:
        """True when ``name`` is a provider of the catalog."""
        return find_provider(name) is not None

    def spec(self, name: str) -> ProviderSpec:
        """The row for ``name``: the catalog's, or an OpenAI-compatible one of the org's own."""
        return find_provider(name) or custom_provider(name)

    def base_url(self, spec: ProviderSpec, config: Mapping[str, str]) -> str | None:
        """Where calls go: the key's ``baseUrl`` (``baseUri`` for Azure), else the catalog's."""
        configured = config.get("baseUrl") or config.get("baseUri")
        if configured:
            return configured.rstrip("/")
        return self._base_urls.get(spec.id, spec.base_url)
