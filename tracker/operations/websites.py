"""The website and app register: a department's websites, web apps and mobile apps, and
the health checks recorded against them. Nothing here commits."""
from datetime import date

import sqlalchemy as sa

from flask_babel import gettext as _

from models import DigitalAsset, HealthCheck
from models.base import utcnow
from models.digital_asset import ASSET_KINDS, HOSTS
from tracker import audit
from tracker.platform import outbound
from tracker.extensions import db
from tracker.operations.errors import check
from tracker.operations.versioning import check_version, flush_versioned
from tracker.operations.services import is_web_address

FIELDS = (
    "name",
    "kind",
    "url",
    "hosted_by",
    "last_content_update",
    "audit_valid_until",
    "accessibility_audit_on",
    "https",
    "portal_integrated",
)
DATE_FIELDS = ("last_content_update", "audit_valid_until", "accessibility_audit_on")


def clean(values: dict, department_id: int, asset: DigitalAsset | None = None) -> dict:
    errors = {}
    out = {}
    name = (values.get("name") or "").strip()
    if not name:
        errors["name"] = [_("Enter the name of the website or app.")]
    elif len(name) > 200:
        errors["name"] = [_("The name is longer than %(max)d characters.", max=200)]
    out["name"] = name
    kind = values.get("kind") or "website"
    if kind not in ASSET_KINDS:
        errors["kind"] = [_("Choose website, web app or mobile app.")]
    out["kind"] = kind
    host = values.get("hosted_by") or "nic"
    if host not in HOSTS:
        errors["hosted_by"] = [_("Choose NIC, the department or a vendor.")]
    out["hosted_by"] = host
    url = (values.get("url") or "").strip()
    if not url:
        errors["url"] = [_("Enter the web address.")]
    elif len(url) > 500 or not is_web_address(url) or outbound.entry_error(url) not in (
            None, "internal"):
        errors["url"] = [_("Enter a web address starting with http:// or https://.")]
    elif outbound.entry_error(url) == "internal":
        errors["url"] = [_("This address is inside a private network (loopback, private, "
                           "link-local or reserved), which the health check does not contact. "
                           "Enter the site's public address; for an intranet site, an "
                           "administrator can allow its network (OUTBOUND_ALLOW).")]
    else:
        clash = db.session.execute(
            sa.select(DigitalAsset.id).where(
                DigitalAsset.department_id == department_id,
                DigitalAsset.url == url,
                DigitalAsset.id != (asset.id if asset is not None else -1),
            )
        ).first()
        if clash:
            errors["url"] = [_("This department already registered this address.")]
    out["url"] = url
    for name in DATE_FIELDS:
        value = values.get(name)
        if value is not None and not isinstance(value, date):
            errors[name] = [_("Enter the date as DD-MM-YYYY.")]
        out[name] = value
    out["https"] = bool(values.get("https"))
    out["portal_integrated"] = bool(values.get("portal_integrated"))
    check(errors)
    return out


def create(department, user, *, values: dict) -> DigitalAsset:
    cleaned = clean(values, department.id)
    asset = DigitalAsset(department=department, updated_at=utcnow(), **cleaned)
    db.session.add(asset)
    db.session.flush()
    changes = audit.snapshot(asset, FIELDS)
    changes["department"] = department.code
    audit.record("create", "digital_asset", asset.id, changes, user=user)
    return asset


def update(asset: DigitalAsset, user, *, expected_version: int | None, values: dict) -> dict:
    check_version(asset, expected_version)
    cleaned = clean(values, asset.department_id, asset)
    before = audit.snapshot(asset, FIELDS)
    for key, value in cleaned.items():
        setattr(asset, key, value)
    changes = audit.diff(before, audit.snapshot(asset, FIELDS))
    if not changes:
        return {}
    asset.updated_at = utcnow()
    flush_versioned(asset, expected_version)
    audit.record("update", "digital_asset", asset.id, changes, user=user)
    return changes


def delete(asset: DigitalAsset, user, *, expected_version: int | None = None):
    check_version(asset, expected_version)
    snapshot = audit.snapshot(asset, FIELDS)
    asset_id = asset.id
    db.session.execute(sa.delete(HealthCheck).where(HealthCheck.asset_id == asset_id))
    db.session.delete(asset)
    flush_versioned(asset, expected_version)
    audit.record("delete", "digital_asset", asset_id, snapshot, user=user)


def record_check(asset: DigitalAsset, result, checked_at=None) -> HealthCheck:
    """Keep one health-check ``result`` (see ``jobs.health_check.CheckResult``) as history
    and as the asset's latest check. The asset's version is not bumped: a check is not an
    edit, so an officer editing the asset meanwhile does not get a conflict."""
    checked_at = checked_at or utcnow()
    check = HealthCheck(
        asset_id=asset.id,
        checked_at=checked_at,
        ok=result.ok,
        status_code=result.status_code,
        response_ms=result.response_ms,
        redirects_to_https=result.redirects_to_https,
        final_url=result.final_url,
        security_headers=result.security_headers,
        lang_declared=result.lang_declared,
        last_modified=result.last_modified,
        error=result.error,
    )
    db.session.add(check)
    # A plain UPDATE that leaves the version column alone.
    db.session.execute(
        sa.update(DigitalAsset)
        .where(DigitalAsset.id == asset.id)
        .values(last_check_at=checked_at, last_check_ok=result.ok,
                last_check_summary=result.summary()[:300])
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return check
