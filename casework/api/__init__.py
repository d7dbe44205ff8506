"""HTTP API (flask-smorest blueprints): parse -> one service -> commit -> dump."""

from __future__ import annotations

from flask import Flask

from casework.api import auth, cases, docs, health, identifiers, organisations, reference, users
from casework.extensions import api


def register(app: Flask) -> None:
    for module in (auth, users, organisations, cases, identifiers, reference):
        api.register_blueprint(module.blp, url_prefix=f"/api/v1/{module.blp.name}")
    app.register_blueprint(health.bp)
    app.register_blueprint(docs.bp)
