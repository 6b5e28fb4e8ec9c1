"""Domain operations: plain functions that change the session and flush, never commit.

The caller (a view, a job, a CLI command or the API) commits once, or rolls back when an
operation raises ``ValidationError`` or ``ConflictError`` (``tracker.operations.errors``).
"""
