"""Domain operations: plain functions that change the session and flush, never commit.

One shape: ``verb(record, user, *, expected_version, …)``: the record acted on (to create
one, its parent; none when it has no parent, as ``plan_meeting(user, *, …)``), the user
acting, then keywords only; a change of a versioned record names the version the user read
(``tracker.operations.versioning``).

The caller commits once, or rolls back when an operation raises ``ValidationError`` or
``ConflictError`` (``tracker.operations.errors``): views and the API through
``views.unit_of_work``, jobs and CLI commands themselves.
"""
