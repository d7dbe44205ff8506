"""Serves the Swagger UI assets from the installed flask-swagger-ui package (works offline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flask_swagger_ui
from flask import Blueprint, send_from_directory

from casework.api.access import public

ASSETS = Path(flask_swagger_ui.__file__).parent / "dist"

bp = Blueprint("docs_assets", __name__)


@bp.get("/api/v1/docs/assets/<path:filename>")
@public
def swagger_asset(filename: str) -> Any:
    return send_from_directory(ASSETS, filename, max_age=3600)
