from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from models.base import enum, utcnow
from tracker.extensions import db

ROLES = ("secretary", "nic", "nodal", "viewer", "admin")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    designation: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[str] = mapped_column(enum(ROLES, "user_role"))
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # Bumped on sign-out and password change: every session cookie issued before is refused.
    session_version: Mapped[int] = mapped_column(default=1)
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    department = relationship("Department", back_populates="users", foreign_keys=[department_id])

    __table_args__ = (
        sa.CheckConstraint(
            "role <> 'nodal' OR department_id IS NOT NULL", name="nodal_has_department"
        ),
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        # One active nodal officer per department.
        sa.Index(
            "uq_users_one_nodal_per_department",
            "department_id",
            unique=True,
            sqlite_where=sa.text("role = 'nodal' AND active"),
            postgresql_where=sa.text("role = 'nodal' AND active"),
        ),
    )

    def set_password(self, password):
        self.password_hash = generate_password_hash(password)

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    def get_id(self):
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self):
        return self.active

    def __repr__(self):
        return f"<User {self.email} {self.role}>"


class ApiToken(db.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user = relationship("User")
