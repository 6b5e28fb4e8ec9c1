"""The domain model: one module per concept, all imported here so metadata is complete."""
from models.action_plan import ActionPlan, PlanVersion
from models.attachment import Attachment
from models.audit_log import AuditLog
from models.bottleneck import Bottleneck
from models.department import Department
from models.dependency import MilestoneDependency, MilestoneForecast
from models.digital_asset import DigitalAsset, HealthCheck
from models.flag import Flag
from models.job_run import JobRun
from models.meeting import ActionItem, AgendaItem, Attendee, MinutesAmendment, ReviewMeeting
from models.milestone import Milestone, MilestoneUpdate
from models.notification import Notification
from models.service import Service
from models.setting import Setting
from models.user import ApiToken, User

__all__ = [
    "ActionItem",
    "ActionPlan",
    "AgendaItem",
    "ApiToken",
    "Attachment",
    "Attendee",
    "AuditLog",
    "Bottleneck",
    "Department",
    "DigitalAsset",
    "Flag",
    "HealthCheck",
    "JobRun",
    "Milestone",
    "MilestoneDependency",
    "MilestoneForecast",
    "MilestoneUpdate",
    "MinutesAmendment",
    "Notification",
    "PlanVersion",
    "ReviewMeeting",
    "Service",
    "Setting",
    "User",
]
