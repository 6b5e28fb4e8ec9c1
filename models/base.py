"""Column helpers shared by the models."""
from datetime import datetime, timezone

import sqlalchemy as sa


def utcnow():
    """Naive UTC now: every timestamp column stores UTC without an offset."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def enum(values, name):
    """A string column whose allowed values the database enforces with a CHECK."""
    return sa.Enum(
        *values,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(v) for v in values),
        validate_strings=True,
    )
