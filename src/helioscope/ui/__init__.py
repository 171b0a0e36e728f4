"""The web UI: static HTML, CSS and JavaScript modules, served from the package itself.

The browser calls the same REST routes as any other client (``/v1/request/query``, ...), with the
API key the user signed in with; this module only hands out files. Nothing here reads the store,
so the UI cannot see anything the API would not show the same key.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"
UI_PREFIX = "/ui"

# Every asset comes from this origin: a CDN or an external font would break offline use, and the
# policy makes the browser refuse one if it ever slipped in. Images too: logged content may
# name remote images (a tracking pixel), which the UI offers to open in a tab of their own on
# click and never loads itself, so img-src allows only inline (data:) and local images.
_SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    # Revalidate on every load so an upgraded Helioscope never runs yesterday's modules.
    "cache-control": "no-cache",
}


class UiFiles(StaticFiles):
    """``StaticFiles`` that adds the UI's security and caching headers to every answer."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        """The file (``index.html`` for the directory), with the UI's headers."""
        response = await super().get_response(path, scope)
        response.headers.update(_SECURITY_HEADERS)
        return response


def install_ui(app: FastAPI) -> None:
    """Serve the UI under ``/ui/`` and send ``/`` there; hidden from the OpenAPI document."""
    app.mount(UI_PREFIX, UiFiles(directory=STATIC_DIR, html=True), name="ui")

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse(f"{UI_PREFIX}/", status_code=307)


__all__ = ["STATIC_DIR", "UI_PREFIX", "install_ui"]
