"""The read side: set-based queries that pages, workbooks and jobs show.

- ``overview``: the dashboard's aggregates (health by department and category, trends,
  scorecards, the records behind a bar);
- ``summaries``: one line per department (the home page, the department-status report,
  the service register's summary);
- ``worklists``: each person's work lists on the home page.
"""
