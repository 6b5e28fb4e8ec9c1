"""Where a flag's subject is acted on: the address of its page, for the flags' pages, the
inbox and the e-mailed digest alike (a job builds links without depending on a view)."""
from flask import url_for
from werkzeug.routing import BuildError

# subject type -> (endpoint, its argument naming the subject)
SUBJECT_ENDPOINTS = {
    "milestone": ("milestones.show", "milestone_id"),
    "bottleneck": ("bottlenecks.show", "bottleneck_id"),
    "action_item": ("meetings.action_item", "item_id"),
    "digital_asset": ("websites.show", "asset_id"),
}


def subject_url(flag, department_code=None, external=False):
    """The page where the flag's subject is acted on when the app has one (a milestone's
    update form, the bottleneck, the action item, the website; the action plan of a
    department without one); else its department's page, else None."""
    if flag.subject_type == "department" and department_code:
        return url_for("plans.show", code=department_code, _external=external)
    endpoint = SUBJECT_ENDPOINTS.get(flag.subject_type)
    if endpoint is not None:
        anchor = "update-title" if flag.subject_type == "milestone" else None
        try:
            return url_for(endpoint[0], **{endpoint[1]: flag.subject_id}, _anchor=anchor,
                           _external=external)
        except BuildError:
            pass
    if department_code:
        return url_for("departments.show", code=department_code, _external=external)
    return None
