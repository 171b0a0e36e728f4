"""Helioscope's own routes under ``/v1/helioscope``: what the UI reads beyond Helicone's shapes."""
