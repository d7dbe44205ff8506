"""gunicorn settings read from the working directory (`gunicorn wsgi:app` picks this file up).

Only what the app cannot do itself: gunicorn writes its own `Server: gunicorn` header on every
response, which tells an attacker what to look up; we send a neutral name instead.
"""

import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "casework"

# Bounds on what a client may send before the app sees it (gunicorn's defaults, stated).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
