"""Application factory: configuration, extensions, sessions, API, errors and CLI."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from casework import api as api_package
from casework import (
    cli,
    encryption,
    error_handlers,
    log_hygiene,
    models,  # noqa: F401 - registers the mappers
    passwords,
    queue,
    request_meta,
    security_headers,
    throttle,
    web_sessions,
)
from casework import config as config_module
from casework.api import edge, openapi
from casework.extensions import api, db, migrate

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app from defaults, the environment, then `config` (tests pass theirs)."""
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(config_module.DEFAULTS)
    app.config.update(config_module.from_environment())
    if config:
        app.config.update(config)
    config_module.apply_development_defaults(app.config)
    config_module.validate(app.config)
    app.config["SQLALCHEMY_DATABASE_URI"] = config_module.normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"])  # type: ignore[method-assign]  # Flask's documented middleware idiom
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    log_hygiene.init_app(app)  # no SQL parameters, row values or exception text in any log record

    encryption.init_app(app)  # a missing or malformed key ring stops start-up here (ConfigError)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    request_meta.init_app(app)
    security_headers.init_app(app)
    passwords.init_app(app)
    web_sessions.init_app(app)
    queue.init_app(app)
    throttle.init_app(app)
    edge.init_app(app)  # before the routes: ids in paths are bounded
    api.init_app(app, spec_kwargs=openapi.prepare())
    openapi.document(app)
    api_package.register(app)
    error_handlers.init_app(app)  # after api.init_app so ours replace flask-smorest's
    cli.init_app(app)
    app.permanent_session_lifetime = app.config["ABSOLUTE_TIMEOUT"]
    return app
