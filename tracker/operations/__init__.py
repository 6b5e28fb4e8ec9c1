"""Domain operations: plain functions that change the session and flush, never commit.
The caller (a view, a job or a CLI command) owns the transaction and commits once."""
