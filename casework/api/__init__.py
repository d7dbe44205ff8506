"""HTTP API (flask-smorest blueprints): parse -> one service -> commit -> dump."""

from __future__ import annotations

from flask import Flask

from casework.api import (
    access_grants,
    auth,
    case_referrals,
    cases,
    docs,
    exports,
    health,
    identifiers,
    mfa,
    notifications,
    organisations,
    reference,
    referrals,
    statistics,
    users,
)
from casework.extensions import api


def register(app: Flask) -> None:
    resources = (
        auth,
        users,
        access_grants,
        organisations,
        cases,
        identifiers,
        reference,
        referrals,
        notifications,
        statistics,
        exports,
    )
    for module in resources:
        api.register_blueprint(module.blp, url_prefix=f"/api/v1/{module.blp.name}")
    api.register_blueprint(case_referrals.blp, url_prefix="/api/v1/cases")
    api.register_blueprint(mfa.blp, url_prefix="/api/v1/auth/mfa")
    app.register_blueprint(health.bp)
    app.register_blueprint(docs.bp)
