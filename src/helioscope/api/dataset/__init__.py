"""``/v1/helicone-dataset`` and the older ``/v1/experiment/dataset``."""
