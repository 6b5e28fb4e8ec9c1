"""Words for the stored codes, shared by the workbooks, the imports (which accept both) and
the pages (which translate them). No openpyxl here: a page imports its labels without the
workbook code (a CLI command or a worker that writes no workbook never imports openpyxl)."""
from models.milestone import MILESTONE_CATEGORIES, MILESTONE_STATUSES
from tracker.i18n import N_


def words(code):
    return str(code).replace("_", " ").capitalize()


CATEGORY_LABELS = {c: words(c) for c in MILESTONE_CATEGORIES}
STATUS_LABELS = {s: words(s) for s in MILESTONE_STATUSES}

# Service delivery modes: the register workbook's words (English, as its import reads them
# back); pages translate them.
MODE_LABELS = {
    "offline": N_("Offline"),
    "online_standalone": N_("Online (standalone)"),
    "integrated": N_("Integrated with the portal"),
}

# Websites and apps: the register workbook's words (English); pages translate them
# (``state_label(..., gettext)``).
KIND_LABELS = {"website": N_("Website"), "web_app": N_("Web app"), "mobile_app": N_("Mobile app")}
HOST_LABELS = {"nic": N_("NIC"), "department": N_("Department"), "vendor": N_("Vendor")}
STATE_LABELS = {
    "content": {
        "ok": N_("Up to date"),
        "expired": N_("Not updated for over %(days)s days"),
        "missing": N_("No update recorded"),
    },
    "certificate": {
        "ok": N_("Valid"),
        "expiring": N_("Expires within %(days)s days"),
        "expired": N_("Expired"),
        "missing": N_("No certificate"),
    },
    "accessibility": {
        "ok": N_("Audited"),
        "expiring": N_("Audit due within %(days)s days"),
        "expired": N_("Audit overdue"),
        "missing": N_("Never audited"),
    },
    "https": {"ok": N_("Yes"), "missing": N_("No HTTPS")},
    "portal": {"ok": N_("Integrated"), "missing": N_("Not integrated")},
    "check": {"ok": N_("Up"), "down": N_("Down"), "not_checked": N_("Not checked")},
}


def state_label(column, state, t, translate=None) -> str:
    """The plain-language words for one compliance state of one column: in English (the
    workbook's), or through ``translate`` (``gettext``) for a page."""
    words = STATE_LABELS[column].get(state)
    if words is None:
        return state
    if translate is not None:
        words = translate(words)
    days = t.website_stale_days if column == "content" else t.certificate_warning_days
    return words % {"days": days}
