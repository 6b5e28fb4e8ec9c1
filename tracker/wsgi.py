"""The WSGI entry point of production (``gunicorn -c deploy/gunicorn.conf.py`` serves
``tracker.wsgi:app``).

Behind a reverse proxy set ``TRUSTED_PROXIES`` to the number of proxies in front (1 for the
nginx of deploy/): the client's address (sign-in rate limit, audit log), scheme and host
are then taken from the X-Forwarded-* headers those proxies set, and from nowhere else
(``tracker/platform/security.py``).
"""
from tracker import create_app

# The views load now, in the worker's start (once with gunicorn's --preload), not on the
# first request a worker serves.
app = create_app().load_views()
