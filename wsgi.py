"""WSGI entry point: `gunicorn wsgi:app`, and the app of every `flask --app wsgi` command.

Without DATABASE_URL / REDIS_URL, the settings of the `make run` instance are used (see
casework/instance.py), so commands work against its embedded servers with no variables set.
"""

from casework import create_app, instance

instance.apply()
app = create_app()
