"""The interactive API documentation at /docs and /redoc, served without a CDN.

FastAPI's default pages load Swagger UI and ReDoc from a CDN, so they are blank on a host
without internet access. Here the scripts and styles come from the `fastapi-offline`
package's static files, served by this app at /docs-static; no page of nerkit's makes an
outbound request.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC", "add_docs"]

STATIC = "/docs-static"


def _assets() -> Path | None:
    """Return the directory holding swagger-ui-bundle.js, swagger-ui.css and redoc.standalone.js."""
    try:
        return Path(str(files("fastapi_offline") / "static"))
    except ModuleNotFoundError:
        return None


def add_docs(app: FastAPI) -> None:
    """Register GET /docs and /redoc with local assets (or a page saying what is missing)."""
    assets = _assets()
    if assets is not None:
        app.mount(STATIC, StaticFiles(directory=assets), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        if assets is None:
            return _missing()
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        if assets is None:
            return _missing()
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            redoc_js_url=f"{STATIC}/redoc.standalone.js",
            redoc_favicon_url=f"{STATIC}/favicon.png",
            with_google_fonts=False,
        )


def _missing() -> HTMLResponse:
    return HTMLResponse(
        "<p>The API documentation page needs the fastapi-offline package "
        "(<code>pip install 'nerkit[serve]'</code>). The schema itself is at "
        '<a href="/openapi.json">/openapi.json</a>.</p>'
    )
