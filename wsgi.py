"""WSGI entry point: `gunicorn wsgi:app`, and the app of every `flask --app wsgi` command.

Without DATABASE_URL / REDIS_URL, the settings of the `make run` instance are used (see
casework/instance.py), so commands work against its embedded servers with no variables set.
"""

from casework import create_app, instance
from casework.services import encryption_keys

instance.apply()
app = create_app()
encryption_keys.check_at_start(app)  # a wrong encryption key, or one missing from the ring, stops start-up
