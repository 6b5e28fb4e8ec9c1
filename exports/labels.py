"""Words for the stored codes, shared by the workbooks and the import (which accepts both)."""
from models.milestone import MILESTONE_CATEGORIES, MILESTONE_STATUSES


def words(code):
    return str(code).replace("_", " ").capitalize()


CATEGORY_LABELS = {c: words(c) for c in MILESTONE_CATEGORIES}
STATUS_LABELS = {s: words(s) for s in MILESTONE_STATUSES}
