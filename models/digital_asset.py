from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import enum, utcnow
from tracker.extensions import db

ASSET_KINDS = ("website", "web_app", "mobile_app")
HOSTS = ("nic", "department", "vendor")
# The security headers a health check looks for (the keys of ``HealthCheck.security_headers``)
# (their words: tracker.labels, kind "security_header").
SECURITY_HEADERS = (
    "strict_transport_security",
    "content_security_policy",
    "x_content_type_options",
    "frame_protection",
)


class DigitalAsset(db.Model):
    """A department website, web app or mobile app and its compliance dates."""

    __tablename__ = "digital_assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"))
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(enum(ASSET_KINDS, "asset_kind"), default="website")
    url: Mapped[str] = mapped_column(sa.String(500))
    hosted_by: Mapped[str] = mapped_column(enum(HOSTS, "asset_host"), default="nic")
    last_content_update: Mapped[date | None]
    audit_valid_until: Mapped[date | None]
    accessibility_audit_on: Mapped[date | None]
    https: Mapped[bool] = mapped_column(default=False)
    portal_integrated: Mapped[bool] = mapped_column(default=False)
    last_check_at: Mapped[datetime | None]
    last_check_ok: Mapped[bool | None]
    last_check_summary: Mapped[str | None] = mapped_column(sa.String(300))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    department = relationship("Department")
    checks = relationship(
        "HealthCheck", back_populates="asset", order_by="HealthCheck.checked_at.desc()"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.UniqueConstraint("department_id", "url"),
        sa.Index("ix_digital_assets_department", "department_id"),
    )


class HealthCheck(db.Model):
    """One health check of a digital asset's URL. Kept as history."""

    __tablename__ = "health_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(sa.ForeignKey("digital_assets.id"))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    ok: Mapped[bool] = mapped_column(default=False)
    status_code: Mapped[int | None]
    response_ms: Mapped[int | None]
    redirects_to_https: Mapped[bool | None]
    final_url: Mapped[str | None] = mapped_column(sa.String(500))
    security_headers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    lang_declared: Mapped[bool | None]
    last_modified: Mapped[str | None] = mapped_column(sa.String(100))
    error: Mapped[str | None] = mapped_column(sa.String(500))

    asset = relationship("DigitalAsset", back_populates="checks")

    __table_args__ = (sa.Index("ix_health_checks_asset_at", "asset_id", "checked_at"),)
