"""An authenticated API client for the prompt tests."""

from __future__ import annotations

from typing import Any

from tests.conftest import Running


class Api:
    """Calls the REST API of a running Helioscope as one organization."""

    def __init__(self, hs: Running, key: str | None = None) -> None:
        self.http = hs.http(headers={"authorization": f"Bearer {key or hs.key}"})

    async def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        """The envelope's data, after checking the status (and the envelope on errors)."""
        response = await self.http.request(method, path, json=body)
        assert response.status_code == status, response.text
        if status == 204:
            return None
        payload = response.json()
        if status >= 400:
            assert payload["data"] is None and isinstance(payload["error"], str)
            return payload["error"]
        assert payload["error"] is None
        return payload["data"]

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()
