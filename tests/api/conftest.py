import pytest

from tracker.extensions import db
from tracker.operations.tokens import create_token


class ApiClient:
    """The test client with a user's bearer token on every request."""

    def __init__(self, client, token):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def _call(self, method, path, headers=None, **kw):
        merged = dict(self.headers)
        merged.update(headers or {})
        return getattr(self.client, method)("/api/v1" + path, headers=merged, **kw)

    def get(self, path, **kw):
        return self._call("get", path, **kw)

    def post(self, path, **kw):
        return self._call("post", path, **kw)

    def patch(self, path, **kw):
        return self._call("patch", path, **kw)


@pytest.fixture
def api(client):
    """``api(user)``: an API client acting with a fresh token of that user."""

    def make(user):
        _, plain = create_token(user, "test")
        db.session.commit()
        return ApiClient(client, plain)

    return make
