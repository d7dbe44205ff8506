"""Flask extensions, created unbound and initialised in create_app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from casework.schemas.errors import ErrorSchema

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Typed declarative base with stable constraint names for Alembic."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects stay usable after the view commits (the response is dumped from them), without a
# reload query per object.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})

# The models' base class. At run time it is Flask-SQLAlchemy's `db.Model` (Base plus the
# registration with `db`); mypy cannot use an attribute as a base class, so it sees the typed Base
# that `db.Model` subclasses.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()


class CaseworkApi(Api):
    """flask-smorest's Api documenting our error envelope (casework.error_handlers) for every error."""

    ERROR_SCHEMA = ErrorSchema


api = CaseworkApi()
