"""The JSON API, ``/api/v1``, for departments' own systems.

Authentication is by personal token only (``Authorization: Bearer rt_…``); session cookies
and CSRF stay with the HTML pages. Every error is ``{"error": {"code", "message", "fields"}}``
with its status code. Writes go through the same operations, permissions and audit log as
the pages.
"""
from views.api import resources, writes  # noqa: F401  (the routes, on the blueprint)
from views.api.blueprint import TokenOnlySessions, bp


def register(app):
    app.session_interface = TokenOnlySessions()
    app.register_blueprint(bp)
