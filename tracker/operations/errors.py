"""The errors an operation raises instead of changing anything.

Views turn ``ValidationError`` into a re-rendered form (422) with each message beside its
field, and ``ConflictError`` into a conflict page (409); the API turns both into JSON: each
through the request's unit of work (``views.unit_of_work``).
"""


class OperationError(Exception):
    """Base class: the operation refused; the caller rolls the session back."""


class ValidationError(OperationError):
    """Bad input. ``errors`` maps a field name (or ``"_"`` for the whole record) to a list of
    messages a user can act on."""

    def __init__(self, errors):
        self.errors = {k: list(v) for k, v in errors.items()}
        super().__init__("; ".join(f"{k}: {' '.join(str(m) for m in v)}"
                                   for k, v in self.errors.items()))

    @property
    def messages(self):
        """Every message, in order: for a flash message or one line beside a form."""
        return [m for messages in self.errors.values() for m in messages]


class ConflictError(OperationError):
    """The record changed since the caller read it (optimistic locking).

    ``record`` is the record (reload it by ``record_id`` after rolling back: after a failed
    flush its attributes cannot be read), ``expected_version`` the version the caller read
    and ``current_version`` the one found, when known.
    """

    def __init__(self, record, expected_version, current_version=None, record_id=None):
        self.record = record
        self.record_id = record_id if record_id is not None else record.id
        self.expected_version = expected_version
        self.current_version = current_version
        super().__init__(
            f"{type(record).__name__} {self.record_id} changed since version "
            f"{expected_version} (now {current_version})"
        )


def check(errors):
    """Raise ``ValidationError`` when ``errors`` (field → messages) is not empty."""
    errors = {k: v for k, v in errors.items() if v}
    if errors:
        raise ValidationError(errors)

