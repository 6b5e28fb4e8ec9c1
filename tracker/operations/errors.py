"""Errors raised by operations, shared by the views, imports and CLI that call them."""


class ValidationFailed(Exception):
    """The values are not acceptable: ``errors`` maps a field name to a message."""

    def __init__(self, errors: dict):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class Conflict(Exception):
    """Someone saved the record after the user read it (optimistic locking)."""

    def __init__(self, message="Someone else changed this record after you opened it."):
        super().__init__(message)
        self.message = message
