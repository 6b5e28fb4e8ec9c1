"""Scheduled jobs: one module per job, the job table and the scheduler builder."""
