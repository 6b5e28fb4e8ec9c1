"""The WSGI entry point of production (``gunicorn -c deploy/gunicorn.conf.py`` serves
``tracker.wsgi:app``).

Behind a reverse proxy set ``PROXY_COUNT`` to the number of proxies in front (1 for the
nginx of deploy/): the client's address (sign-in rate limit, audit log), scheme and host
are then taken from the X-Forwarded-* headers those proxies set, and from nowhere else.
"""
import os

from tracker import create_app

app = create_app()

_proxies = int(os.environ.get("PROXY_COUNT", "0") or 0)
if _proxies:
    from werkzeug.middleware.proxy_fix import ProxyFix

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=_proxies, x_proto=_proxies, x_host=_proxies)
