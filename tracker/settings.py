"""Thresholds of the rules: configuration defaults, overridden by an administrator's
``Setting`` rows. Rules take a ``Thresholds`` so they never read configuration themselves."""
from dataclasses import dataclass, fields, replace

from flask import current_app, g, has_app_context


@dataclass(frozen=True)
class Thresholds:
    at_risk_window_days: int = 14
    stale_days: int = 30
    sla_critical_days: int = 3
    sla_high_days: int = 7
    sla_medium_days: int = 14
    sla_low_days: int = 30
    certificate_warning_days: int = 30
    website_stale_days: int = 90
    escalate_to_nic_days: int = 7
    escalate_to_secretary_days: int = 14
    accessibility_audit_valid_days: int = 365
    forecast_margin_days: int = 7
    timezone: str = "Asia/Kolkata"

    def sla_days(self, severity):
        return getattr(self, f"sla_{severity}_days")

    @property
    def sla_by_severity(self):
        return {s: self.sla_days(s) for s in ("low", "medium", "high", "critical")}


EDITABLE = tuple(f.name for f in fields(Thresholds) if f.name != "timezone")


def from_config(config) -> Thresholds:
    values = {name: int(config[name.upper()]) for name in EDITABLE}
    return Thresholds(timezone=config["TIMEZONE"], **values)


def thresholds() -> Thresholds:
    """The thresholds in force: configuration, then administrator overrides (cached per request)."""
    if has_app_context() and "thresholds" in g:
        return g.thresholds
    from models import Setting
    from tracker.extensions import db

    result = from_config(current_app.config)
    overrides = {
        s.key: int(s.value)
        for s in db.session.execute(db.select(Setting)).scalars()
        if s.key in EDITABLE and s.value.isdigit()
    }
    if overrides:
        result = replace(result, **overrides)
    g.thresholds = result
    return result
