"""The UI's files: shipped in the package, served with their headers, and all local.

These run without a browser, so they also run on machines without chromium.
"""

from __future__ import annotations

import re

import httpx

from helioscope.providers.catalog import PROVIDERS
from helioscope.ui import STATIC_DIR
from tests.conftest import Running

IMPORT = re.compile(r"""(?:import|from)\s*(?:[^"';]*?\sfrom\s*)?["'](\.[^"']+)["']""")


def module_graph() -> set[str]:
    """Every file reachable from index.html through <script>/<link> and ES imports."""
    index = (STATIC_DIR / "index.html").read_text()
    pending = re.findall(r'(?:src|href)="([^"#]+)"', index)
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        path = STATIC_DIR / name
        assert path.is_file(), f"{name} is referenced but not shipped"
        if name.endswith(".js"):
            base = name.rsplit("/", 1)[0]
            pending += [f"{base}/{m[2:]}" for m in IMPORT.findall(path.read_text())]
    return seen


def test_every_referenced_file_is_shipped_and_local() -> None:
    files = module_graph()
    assert {"app.css", "js/main.js", "js/requests.js", "js/sessions.js"} <= files
    for path in STATIC_DIR.rglob("*"):
        if path.suffix in {".html", ".css", ".js"}:
            text = path.read_text()
            # No CDN script, stylesheet, font or import: the UI works offline.
            assert not re.search(r"""(?:src|href)=["']https?:""", text), path
            assert not re.search(r"""url\(\s*["']?https?:""", text), path
            assert not re.search(r"""(?:import|from)\s*["']https?:""", text), path
            assert "@import" not in text, path


async def test_ui_is_served_with_its_headers(helioscope: Running) -> None:
    async with httpx.AsyncClient(base_url=helioscope.url) as http:
        home = await http.get("/")
        assert home.status_code == 307 and home.headers["location"] == "/ui/"
        page = await http.get("/ui/")
        assert page.status_code == 200 and "<title>Helioscope</title>" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        for name in module_graph():
            asset = await http.get(f"/ui/{name}")
            assert asset.status_code == 200, name
            if name.endswith(".js"):
                assert "javascript" in asset.headers["content-type"], name
        missing = await http.get("/ui/js/nope.js")
        assert missing.status_code == 404
        # The API's own 404 stays the API's envelope.
        api = await http.get("/v1/does-not-exist")
        assert api.json() == {"data": None, "error": "Not Found"}


def test_settings_offers_the_providers_the_api_accepts() -> None:
    # The provider-key form's list is a copy of the catalog (the UI has no build step to share
    # it): this keeps the copy true.
    source = (STATIC_DIR / "js" / "providerkeys.js").read_text()
    listed = re.search(r"export const PROVIDERS = \[(.*?)\];", source, re.S)
    assert listed is not None
    assert re.findall(r'"([^"]+)"', listed[1]) == [spec.id for spec in PROVIDERS]
