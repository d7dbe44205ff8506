"""HTTP API (flask-smorest blueprints): parse -> one service -> commit -> dump."""

from __future__ import annotations

from flask import Flask

from casework.api import auth, docs, health, organisations, users
from casework.extensions import api


def register(app: Flask) -> None:
    for module in (auth, users, organisations):
        api.register_blueprint(module.blp, url_prefix=f"/api/v1/{module.blp.name}")
    app.register_blueprint(health.bp)
    app.register_blueprint(docs.bp)
