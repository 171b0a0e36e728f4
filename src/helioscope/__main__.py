"""``python -m helioscope``: the same as the ``helioscope`` command."""

from helioscope.cli import main

main()
