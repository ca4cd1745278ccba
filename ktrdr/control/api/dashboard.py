"""The web dashboard: static files shipped in the package, served by the backend.

No build step and no server of its own: ``static/`` holds the page, its script and its
styles; the page talks to the public API like any client. Its policy lets it load only
its own files, call only this backend and frame only this backend's reports.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

DASHBOARD_PATH = "/dashboard"
STATIC_DIR = Path(__file__).parent / "static"
DASHBOARD_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # A new backend version serves new files at once; they are small.
    "Cache-Control": "no-cache",
}


class DashboardFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(DASHBOARD_HEADERS)
        return response


def install_dashboard(app: FastAPI) -> None:
    app.mount(DASHBOARD_PATH, DashboardFiles(directory=STATIC_DIR, html=True), name="dashboard")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(f"{DASHBOARD_PATH}/")
