"""``/v1/prompt`` (prompts recorded through ``Helicone-Prompt-Id``) and ``/v1/prompt-2025``."""
