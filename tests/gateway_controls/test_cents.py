"""``u=cents`` charged by the process that served the call, with or without the log writer beside
it (``serve --workers N``: worker 1 journals its calls, worker 0 stores them), on both backends.
The real processes are in ``tests/cli/test_workers_cents.py``."""

from __future__ import annotations

import pytest

from helioscope import Settings
from helioscope.testing import FakeProvider
from tests.gateway_controls.test_ratelimit import call
from tests.running import Running, running

# gpt-4 input costs $30 per million tokens: 400 words are 1.2 cents.
LONG = {"model": "gpt-4", "messages": [{"role": "user", "content": "word " * 400}]}
STREAM = {**LONG, "stream": True, "stream_options": {"include_usage": True}}


async def _charged(hs: Running) -> None:
    """Wait for the background charges (not for the writer: this process may have none)."""
    controls = hs.services.started.gateway.controls
    assert controls is not None
    await controls.settle()


@pytest.mark.parametrize("stream", [False, True], ids=["body", "stream"])
async def test_a_worker_without_the_log_writer_charges_the_calls_it_serves(
    settings: Settings, fake: FakeProvider, stream: bool
) -> None:
    # As worker 1 of serve --workers 2: it only journals; another process stores the calls.
    async with running(settings.model_copy(update={"log_writer": False})) as hs:
        body = STREAM if stream else LONG
        first = await call(hs, "1;w=3600;u=cents", body)
        assert first.status_code == 200
        if stream:  # the usage came in the stream's last event: that is what was priced
            assert '"usage":{"prompt_tokens":' in first.text.replace(" ", ""), first.text
        await _charged(hs)
        second = await call(hs, "1;w=3600;u=cents", body)
        assert second.status_code == 429, second.text
        assert second.headers["helicone-ratelimit-remaining"] == "0"
        assert len(fake.calls) == 1
