"""What a span's attribute keys say, worked out once per distinct list of keys.

Spans from one instrumentation carry the same keys in the same order, span after span, with
only the values changing. Which keys make a span an LLM call, which are messages or Helicone
properties, and where each key ``otel`` reads sits in the list, are therefore found once per
list of keys (a ``Plan``); a span then costs a dictionary lookup and index reads, where
sorting its attributes into dictionaries took a third of the time its row took to build.

A plan indexes a span's values as ``otel`` lists them: one per attribute, in order, then
``TAIL`` (``"assistant"``, then None). Index -1 reads None (a key the span does not have, as a
dictionary's ``get`` answers); -2 reads ``"assistant"`` (a completion without a role).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

INDEXED = re.compile(r"^gen_ai\.(prompt|completion)\.(\d+)\.(\w+)$")
ASSOCIATION = "traceloop.association.properties."
USER_KEY = f"{ASSOCIATION}Helicone-User-Id"
_HELICONE = f"{ASSOCIATION}Helicone-"
_PROPERTY = "Helicone-Property-"
TAIL = ("assistant", None)
_ABSENT, _ASSISTANT = -1, -2

# The keys ``otel`` reads a row's fields from, in the order ``Plan.read`` returns their values.
READ = (
    "gen_ai.system",
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.usage.prompt_tokens",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.completion_tokens",
    "gen_ai.usage.output_tokens",
    "llm.usage.total_tokens",
    "gen_ai.usage.total_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    USER_KEY,
    "llm.user",
    "server.address",
)

# A key's part in a span, found once per distinct key (spans repeat the same few keys):
# (_LLM,) a GenAI key, (_MESSAGE, kind, index, field) one of a message, (_PROPERTY_OF, name)
# Helicone's, (_OTHER,) none. At most KINDS_MAX keys are kept (a client could send any).
_OTHER, _LLM, _MESSAGE, _PROPERTY_OF = 0, 1, 2, 3
KINDS: dict[str, tuple[Any, ...]] = {}
KINDS_MAX = 4096
KEY_MAX = 256  # characters


def _kind(key: str) -> tuple[Any, ...]:
    if key.startswith("gen_ai."):
        # ``gen_ai.<kind>.<index>.<field>``: plain ASCII split at once, the rest by the
        # regular expression (two of every three attributes are not messages at all).
        kind = (
            "prompt"
            if key.startswith("gen_ai.prompt.")
            else "completion"
            if key.startswith("gen_ai.completion.")
            else None
        )
        if kind is None:
            return (_LLM,)
        index, _, field = key[len(kind) + 8 :].partition(".")
        if not (
            index.isascii()
            and index.isdigit()
            and field.isascii()
            and field.replace("_", "a").isalnum()
        ):
            match = INDEXED.match(key)
            if not match:
                return (_LLM,)
            index, field = match.group(2), match.group(3)
        return (_MESSAGE, kind, int(index), field)
    if key.startswith("llm."):
        return (_LLM,)
    if key.startswith(_HELICONE):
        name = key[len(ASSOCIATION) :]
        if name.startswith(_PROPERTY):
            return (_PROPERTY_OF, name[len(_PROPERTY) :])
        if name != "Helicone-User-Id":
            return (_PROPERTY_OF, name)
    return (_OTHER,)


def _kind_of(key: str) -> tuple[Any, ...]:
    kind = KINDS.get(key)
    if kind is None:
        kind = _kind(key)
        if len(KINDS) >= KINDS_MAX:
            KINDS.clear()
        if len(key) <= KEY_MAX:  # a key of any length is read, but not kept
            KINDS[key] = kind
    return kind


class Plan:
    """Where a span with these keys keeps what its row needs (indexes into its values)."""

    __slots__ = ("choices", "is_llm", "prompt", "properties", "read")

    def __init__(self, keys: Sequence[str]) -> None:
        """``keys``: a span's attribute keys, in order (a key given twice: its last value)."""
        self.is_llm = False
        # A name's (a field's) first place orders it; its last value is the one read.
        properties: dict[str, int] = {}
        found: dict[str, dict[int, dict[str, int]]] = {"prompt": {}, "completion": {}}
        last: dict[str, int] = {}
        for at, key in enumerate(keys):
            kind = _kind_of(key)
            last[key] = at
            tag = kind[0]
            if tag == _OTHER:
                continue
            if tag == _PROPERTY_OF:
                properties[kind[1]] = at
                continue
            self.is_llm = True
            if tag == _MESSAGE:
                found[kind[1]].setdefault(kind[2], {})[kind[3]] = at
        self.properties = tuple(properties.items())
        prompt, completion = found["prompt"], found["completion"]
        # The prompt's messages (``gen_ai.prompt.<i>.<field>``), in order, as (field, index).
        self.prompt = tuple(tuple(prompt[i].items()) for i in sorted(prompt))
        # Each completion's role, content and finish reason (index -2: "assistant").
        self.choices = tuple(
            (c.get("role", _ASSISTANT), c.get("content", _ABSENT), c.get("finish_reason", _ABSENT))
            for c in (completion[i] for i in sorted(completion))
        )
        self.read: Callable[[list[Any]], tuple[Any, ...]] = operator.itemgetter(
            *(last.get(key, _ABSENT) for key in READ)
        )


class _Plans:
    """Plans kept by their keys; bounded by the keys they hold in all (a client could send any).

    Only lists of keys of at most ``KEY_MAX`` characters each are kept: a plan holds its keys.
    """

    MAX_KEYS = 16384

    def __init__(self) -> None:
        self.by_keys: dict[tuple[str, ...], Plan] = {}
        self.keys = 0

    def __call__(self, keys: tuple[str, ...]) -> Plan:
        found = self.by_keys.get(keys)
        if found is None:
            found = Plan(keys)
            if self.keys + len(keys) > self.MAX_KEYS:
                self.by_keys.clear()
                self.keys = 0
            if len(keys) <= self.MAX_KEYS and max(map(len, keys), default=0) <= KEY_MAX:
                self.by_keys[keys] = found
                self.keys += len(keys)
        return found


# The plan of a span with these attribute keys (made once, then kept).
plan = _Plans()
