"""The model registry: which providers serve a model, in which order, under which name.

A model written alone (``gpt-4o-mini``) may be served by several providers; the gateway tries
those the organization holds a key for, in the order below: the model's author first, then
the providers that host it. Each provider may know the model under its own name (Anthropic's
dated ids, OpenRouter's ``author/model``). Prices are not kept here: the log prices each call
with genai-prices for the provider that answered.

The registry lists the models ``GET /v1/models`` answers; a model it does not list is still
routed when its name says who made it (``gpt-…``, ``claude-…``, ``gemini-…``), and any model
goes to a provider named after a slash (``llama3.2/ollama``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

_OPENAI_HOSTS = ("openai", "azure", "openrouter")
_HOSTED = ("openrouter",)


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A model of the registry."""

    id: str  # Helicone's name for it
    author: str  # the provider id of its maker
    released: dt.date
    providers: tuple[str, ...]  # in preference order
    names: tuple[tuple[str, str], ...] = ()  # (provider, the provider's name) where it differs

    @property
    def created(self) -> int:
        """Release date as a POSIX timestamp (OpenAI's ``created``)."""
        return int(dt.datetime.combine(self.released, dt.time(), dt.UTC).timestamp())


def _m(
    id: str, author: str, released: str, hosts: tuple[str, ...], *names: tuple[str, str]
) -> RegisteredModel:
    return RegisteredModel(id, author, dt.date.fromisoformat(released), hosts, names)


def _anthropic(id: str, released: str, dated: str) -> RegisteredModel:
    return _m(id, "anthropic", released, ("anthropic", *_HOSTED), ("anthropic", dated))


REGISTRY: tuple[RegisteredModel, ...] = (
    _m("gpt-4o", "openai", "2024-05-13", _OPENAI_HOSTS),
    _m("gpt-4o-mini", "openai", "2024-07-18", _OPENAI_HOSTS),
    _m("gpt-4.1", "openai", "2025-04-14", _OPENAI_HOSTS),
    _m("gpt-4.1-mini", "openai", "2025-04-14", _OPENAI_HOSTS),
    _m("gpt-4.1-nano", "openai", "2025-04-14", _OPENAI_HOSTS),
    _m("gpt-5", "openai", "2025-08-07", _OPENAI_HOSTS),
    _m("gpt-5-mini", "openai", "2025-08-07", _OPENAI_HOSTS),
    _m("gpt-5-nano", "openai", "2025-08-07", _OPENAI_HOSTS),
    _m("o3", "openai", "2025-04-16", _OPENAI_HOSTS),
    _m("o3-mini", "openai", "2025-01-31", _OPENAI_HOSTS),
    _m("o4-mini", "openai", "2025-04-16", _OPENAI_HOSTS),
    _anthropic("claude-3.5-haiku", "2024-10-22", "claude-3-5-haiku-20241022"),
    _anthropic("claude-3.7-sonnet", "2025-02-19", "claude-3-7-sonnet-20250219"),
    _anthropic("claude-sonnet-4", "2025-05-22", "claude-sonnet-4-20250514"),
    _anthropic("claude-opus-4", "2025-05-22", "claude-opus-4-20250514"),
    _anthropic("claude-opus-4-1", "2025-08-05", "claude-opus-4-1-20250805"),
    _anthropic("claude-sonnet-4-5", "2025-09-29", "claude-sonnet-4-5-20250929"),
    _anthropic("claude-haiku-4-5", "2025-10-15", "claude-haiku-4-5-20251001"),
    _m("gemini-2.0-flash", "google", "2025-02-05", ("google", *_HOSTED)),
    _m("gemini-2.5-flash", "google", "2025-06-17", ("google", *_HOSTED)),
    _m("gemini-2.5-flash-lite", "google", "2025-07-22", ("google", *_HOSTED)),
    _m("gemini-2.5-pro", "google", "2025-06-17", ("google", *_HOSTED)),
    _m("mistral-large-latest", "mistral", "2024-11-18", ("mistral",)),
    _m("mistral-small-latest", "mistral", "2025-03-17", ("mistral",)),
    _m("codestral-latest", "mistral", "2025-01-13", ("mistral",)),
    _m("deepseek-chat", "deepseek", "2024-12-26", ("deepseek",)),
    _m("deepseek-reasoner", "deepseek", "2025-01-20", ("deepseek",)),
    _m("grok-3", "xai", "2025-04-09", ("xai", *_HOSTED)),
    _m("grok-3-mini", "xai", "2025-04-09", ("xai", *_HOSTED)),
    _m("grok-4", "xai", "2025-07-09", ("xai", *_HOSTED)),
    _m("llama-3.3-70b-versatile", "meta", "2024-12-06", ("groq",)),
    _m("llama-3.1-8b-instant", "meta", "2024-07-23", ("groq",)),
)
_BY_ID = {model.id: model for model in REGISTRY}

# Who made a model the registry does not list, by the start of its name.
_AUTHORS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("gpt-", "o1", "o3", "o4", "chatgpt-"), "openai"),
    (("claude-",), "anthropic"),
    (("gemini-", "gemma-"), "google"),
    (("mistral-", "ministral-", "codestral-", "magistral-", "devstral-", "pixtral-"), "mistral"),
    (("deepseek-",), "deepseek"),
    (("grok-",), "xai"),
)
# Providers that serve what an author makes, when the registry has no row for a model.
_AUTHOR_HOSTS = {
    "openai": _OPENAI_HOSTS,
    "anthropic": ("anthropic", *_HOSTED),
    "google": ("google", *_HOSTED),
    "mistral": ("mistral", *_HOSTED),
    "deepseek": ("deepseek", *_HOSTED),
    "xai": ("xai", *_HOSTED),
}
# OpenRouter's names for authors (``anthropic/claude-sonnet-4``, ``x-ai/grok-3``, …).
_OPENROUTER_AUTHORS = {"xai": "x-ai", "meta": "meta-llama"}


def registered(model: str) -> RegisteredModel | None:
    """The registry's row for ``model``, or None."""
    return _BY_ID.get(model)


def author_of(model: str) -> str | None:
    """The provider id of the model's maker, from the registry or the start of its name."""
    row = _BY_ID.get(model)
    if row is not None:
        return row.author
    lowered = model.lower()
    return next((a for prefixes, a in _AUTHORS if lowered.startswith(prefixes)), None)


def serving_providers(model: str) -> tuple[str, ...]:
    """The providers that serve ``model`` written alone, in preference order (maybe none)."""
    row = _BY_ID.get(model)
    if row is not None:
        return row.providers
    author = author_of(model)
    return _AUTHOR_HOSTS.get(author, ()) if author is not None else ()


def provider_model_name(model: str, provider: str) -> str:
    """The name ``provider`` knows ``model`` by."""
    row = _BY_ID.get(model)
    if row is not None:
        for name_provider, name in row.names:
            if name_provider == provider:
                return name
    if provider == "openrouter" and "/" not in model:
        author = author_of(model)
        if author is not None:
            return f"{_OPENROUTER_AUTHORS.get(author, author)}/{model}"
    return model
