"""Domain operations: plain functions that change the session and flush, never commit.
The caller (a view, a job, the CLI, the API) owns the transaction."""
