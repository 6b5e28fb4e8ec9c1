"""Personal API tokens: shown once, stored as a SHA-256 hash."""
import hashlib
import secrets
from datetime import timedelta

from models import ApiToken
from models.base import utcnow
from tracker import audit
from tracker.extensions import db

PREFIX = "rt_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(user, name: str):
    """Create a token for ``user``; returns (ApiToken, the plain token to show once)."""
    plain = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name.strip(), token_hash=hash_token(plain), prefix=plain[:10])
    db.session.add(token)
    db.session.flush()
    audit.record("create", "api_token", token.id, {"name": token.name}, user=user)
    return token, plain


def revoke_token(token, user):
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("revoke", "api_token", token.id, {"name": token.name}, user=user)


LAST_USED_PRECISION = timedelta(minutes=1)


def user_for_token(plain: str, now=None):
    """The active user a live token belongs to, or None. Records when it was last used
    (to the minute: a busy client does not write on every request)."""
    if not plain or not plain.startswith(PREFIX) or len(plain) > 200:
        return None
    token = db.session.execute(
        db.select(ApiToken).filter_by(token_hash=hash_token(plain))
    ).scalar()
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        token.last_used_at = now
    return token.user
