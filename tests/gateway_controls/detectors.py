"""A replacement prompt-injection detector, loaded by name as a user would load theirs."""

from __future__ import annotations

from helioscope.gateway.controls import Detection


class KeywordDetector:
    """Flags any prompt containing the word 'pineapple'."""

    async def detect(self, text: str) -> Detection:
        found = "pineapple" in text.lower()
        return Detection(found, 1.0 if found else 0.0, ["pineapple"] if found else [])


def pineapple() -> KeywordDetector:
    return KeywordDetector()
