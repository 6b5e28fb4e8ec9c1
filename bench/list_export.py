"""``list_export``: "Export this list" on the overdue list, the records behind the dashboard's
overdue figure (``/dashboard/records?kind=milestones&health=overdue&format=xlsx``), through the
app as a user downloads it, held against a bare write-only openpyxl loop over the same
statements and rows (``bench.baseline.replay_workbook``) in the same run; peak memory of each
in a fresh process."""
from bench.baseline import replay_workbook
from bench.harness import StatementRecorder

URL = "/dashboard/records?kind=milestones&health=overdue&format=xlsx"


def _signed_in_client(app):
    from bench.generate import PASSWORD, staff_email

    client = app.test_client()
    response = client.post("/sign-in", data={"email": staff_email("secretary"),
                                             "password": PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"bench sign-in failed: {response.status_code}")
    return client


def download(client):
    response = client.get(URL)
    if response.status_code != 200 or response.data[:2] != b"PK":
        raise RuntimeError(f"GET {URL}: {response.status_code}")
    return response.data


def download_from_url(database_url):
    """In a measuring process: the app on the database, one download."""
    from bench.run import make_app

    return len(download(_signed_in_client(make_app(database_url))))


def replay_from_url(database_url, statements):
    from bench.run import make_app

    app = make_app(database_url)
    with app.app_context():
        from tracker.extensions import db

        return len(replay_workbook(db.engine, statements))


def record_statements(ctx, client):
    """The statements of one download, the sign-in's own left out."""
    download(client)
    with StatementRecorder(ctx.engine) as recorder:
        download(client)
    return recorder.statements
