"""The public surface is deliberate: this test changes when it does."""

import helioscope
import helioscope.testing


def test_exported_members() -> None:
    assert helioscope.__all__ == ["Settings", "__version__", "create_app"]
    assert helioscope.testing.__all__ == ["FakeProvider", "ReceivedCall", "serve"]
