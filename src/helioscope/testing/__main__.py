"""``python -m helioscope.testing --port N``: run the fake provider alone (for benchmarks)."""

from __future__ import annotations

import argparse

import uvicorn

from helioscope.testing import FakeProvider


def main() -> None:
    """Serve the fake provider until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8686)
    args = parser.parse_args()
    provider = FakeProvider()
    provider.record = False
    uvicorn.run(provider.app, host=args.host, port=args.port, log_level="warning", access_log=False)


main()
