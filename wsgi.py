"""WSGI entry point: `gunicorn wsgi:app`."""

from casework import create_app
from casework.services import encryption_keys

app = create_app()
encryption_keys.check_at_start(app)  # a wrong encryption key, or one missing from the ring, stops start-up
