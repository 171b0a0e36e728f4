"""The stand-in for Helicone, serving on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from helioscope.testing import serve
from tests.helicone_import.fake_helicone import FakeHelicone, bodies, helicone_request


@pytest.fixture
async def helicone() -> AsyncIterator[FakeHelicone]:
    """Thirteen requests, one second apart from 10:00:00, and two in the same millisecond."""
    requests = [(helicone_request(i, i), bodies(i)) for i in range(12)]
    # Two requests made in the same millisecond, either side of a page break (pages of four:
    # 2 3 4 5 | 5 6 7 8 | 9 10 11): paging must lose neither and repeat neither.
    requests.append((helicone_request(12, 5), bodies(12)))
    fake = FakeHelicone(requests)
    async with serve(fake.app) as url:
        fake.url = url
        yield fake
