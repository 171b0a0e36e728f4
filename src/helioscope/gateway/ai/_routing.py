"""Model strings as Helicone writes them, resolved to the providers that will be tried.

``gpt-4o-mini`` (every provider that serves it, in the registry's order), ``gpt-4o-mini/openai``
(that provider), and comma-separated chains of either, tried in order; an entry ``!provider``
excludes that provider from the whole chain (Helicone's global ignore). Only providers the
organization holds a usable key for are tried: an entry without one is passed over (``_chain``),
and the call refused only when no entry is left. A malformed string, or one naming an unknown
model or provider, is refused whole: that is a typo to fix, not a provider to do without.
A name after the last slash that is not a provider leaves the slash to the model
(``meta-llama/Llama-3.3-70B/together`` is a model of Together's).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import NamedTuple

from helioscope.errors import BadRequest, ServiceUnavailable
from helioscope.gateway.ai._chain import Skipped, refusal
from helioscope.providers import ProviderFormat
from helioscope.providers import anthropic as anthropic_wire
from helioscope.providers import google as gemini_wire
from helioscope.providers import openai as openai_wire
from helioscope.providers.catalog import PROVIDER_IDS, Catalog, ProviderSpec, Wire, canonical_name
from helioscope.providers.models import provider_model_name, registered, serving_providers
from helioscope.vault import Credential, OrgKeys

_PARSERS = {
    Wire.OPENAI: (openai_wire.parse_body, openai_wire.parse_stream, openai_wire.parse_raw),
    Wire.ANTHROPIC: (
        anthropic_wire.parse_body,
        anthropic_wire.parse_stream,
        anthropic_wire.parse_raw,
    ),
    Wire.GEMINI: (gemini_wire.parse_body, gemini_wire.parse_stream, gemini_wire.parse_raw),
}


@lru_cache(maxsize=256)
def log_format(spec: ProviderSpec) -> ProviderFormat:
    """How the log reads and prices this provider's answers."""
    return ProviderFormat(spec.log_name, spec.price_id, *_PARSERS[spec.wire])


@dataclass(frozen=True, slots=True)
class Target:
    """One provider to try: where, with which key, under which model name."""

    entry: str  # the entry of the model string it came from
    spec: ProviderSpec
    model: str  # the provider's name for the model
    base_url: str
    credential: Credential
    position: int = 0  # of its entry in the model string


class Unusable(BadRequest):
    """An entry this organization cannot use: no key for its provider, or no address for it."""


class Resolved(NamedTuple):
    """The providers to try, in order, and the entries passed over."""

    targets: list[Target]
    skipped: list[Skipped]


class ModelChain(NamedTuple):
    """A parsed model string: its entries in order, and the providers it excludes."""

    entries: list[tuple[str, str | None]]  # (model, provider or None)
    excluded: list[str]  # the providers of its ``!provider`` entries, as written


def parse_model_string(value: object) -> ModelChain:
    """The entries of a model string and its exclusions; ``BadRequest`` if malformed."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(
            "model is required: a model (gpt-4o-mini), a model and its provider "
            "(claude-sonnet-4/anthropic), or a comma-separated chain of them"
        )
    chain = ModelChain([], [])
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            raise BadRequest(f"model {value!r}: an entry of the comma-separated chain is empty")
        if entry.startswith("!"):
            if not entry[1:].strip():
                raise BadRequest(f"model {value!r}: write an excluded provider as !<provider>")
            chain.excluded.append(entry[1:].strip())
            continue
        model, slash, provider = entry.rpartition("/")
        if not slash:
            chain.entries.append((entry, None))
        elif not model.strip() or not provider.strip():
            raise BadRequest(f"model {entry!r}: write it as <model>/<provider>, both non-empty")
        else:
            chain.entries.append((model.strip(), provider.strip()))
    if not chain.entries:
        raise BadRequest(f"model {value!r}: name a model besides the providers it excludes")
    return chain


class Router:
    """Resolves model strings against the catalog, the registry and an organization's keys."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def resolve(self, model_string: object, keys: OrgKeys) -> Resolved:
        """The providers to try and the entries passed over; ``HelioscopeError`` if none is left."""
        chain = parse_model_string(model_string)
        excluded = self._excluded(chain.excluded, keys)
        resolved = Resolved([], [])
        for position, (model, provider) in enumerate(chain.entries):
            entry = model if provider is None else f"{model}/{provider}"
            try:
                found = self._entry(model, provider, keys, excluded)
            except (Unusable, ServiceUnavailable) as exc:
                resolved.skipped.append(Skipped(position, entry, None, exc))
                continue
            # (The first entry's targets are made at position 0: no copy for a one-entry string.)
            resolved.targets.extend(replace(t, position=position) if position else t for t in found)
        targets = [t for t in resolved.targets if t.spec.id not in excluded]
        if not targets and not resolved.skipped:
            raise BadRequest(f"model {model_string!r}: every provider it names is excluded")
        if not targets:
            raise refusal(model_string, resolved.skipped)
        return Resolved(targets, resolved.skipped)

    def _entry(
        self, model: str, provider: str | None, keys: OrgKeys, excluded: set[str]
    ) -> list[Target]:
        if provider is not None and self._is_provider(provider, keys):
            if canonical_name(provider) in excluded:
                return []
            return [self._explicit(model, provider, keys)]
        whole = model if provider is None else f"{model}/{provider}"
        return self._implicit(whole, provider, keys)

    def _excluded(self, names: list[str], keys: OrgKeys) -> set[str]:
        for name in names:
            if not self._is_provider(name, keys):
                raise BadRequest(
                    f"model: !{name} excludes an unknown provider (known: {PROVIDER_IDS}, and "
                    "the providers of this organization's keys)"
                )
        return {canonical_name(name) for name in names}

    def _is_provider(self, name: str, keys: OrgKeys) -> bool:
        canonical = canonical_name(name)
        return self.catalog.known(canonical) or canonical in keys.by_provider

    def _explicit(self, model: str, provider: str, keys: OrgKeys) -> Target:
        canonical = canonical_name(provider)
        credential = keys.by_provider.get(canonical)
        if credential is None:
            raise Unusable(
                f"model {model}/{provider}: this organization has no provider key for "
                f"{canonical}; add one with POST /v1/vault/add (provider: {canonical})"
            )
        return self._target(f"{model}/{provider}", model, credential)

    def _implicit(self, model: str, slashed: str | None, keys: OrgKeys) -> list[Target]:
        own = [c for c in keys.by_provider.values() if model in _listed_models(c)]
        # A slash in a model's name counts only for models listed as such, never guessed at.
        known = serving_providers(model) if slashed is None or registered(model) else ()
        served = [p for p in known if p not in {c.provider for c in own}]
        usable = own + [keys.by_provider[p] for p in served if p in keys.by_provider]
        if usable:
            readable = [c for c in usable if c.key is not None]
            # With no readable key, _target raises the error that says why.
            return [self._target(model, model, c) for c in readable or usable[:1]]
        if slashed is not None:
            raise BadRequest(
                f"model {model!r}: unknown provider {slashed!r} (known: {PROVIDER_IDS}, and the "
                "providers of this organization's keys)"
            )
        if not served:
            raise BadRequest(
                f"model {model!r}: no known provider serves it; write it as {model}/<provider> "
                f"(providers: {PROVIDER_IDS})"
            )
        raise Unusable(
            f"model {model!r} is served by {', '.join(served)}, and this organization has no "
            "provider key for any of them; add one with POST /v1/vault/add"
        )

    def _target(self, entry: str, model: str, credential: Credential) -> Target:
        spec = self.catalog.spec(credential.provider)
        if credential.key is None:
            raise ServiceUnavailable(
                f"the stored {credential.provider} key cannot be decrypted with this server's "
                "HELIOSCOPE_SECRET_KEY (it changed since the key was stored); store it again"
            )
        base = self.catalog.base_url(spec, credential.config)
        if base is None:
            raise Unusable(
                f"provider {spec.id} has no fixed address: give its key a config.baseUrl"
            )
        return Target(entry, spec, provider_model_name(model, spec.id), base, credential)


def _listed_models(credential: Credential) -> set[str]:
    """The models a key serves beyond the registry (its config's comma-separated ``models``)."""
    return {m.strip() for m in credential.config.get("models", "").split(",") if m.strip()}
