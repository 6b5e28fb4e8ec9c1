"""Command-line interface: ``flask --app tracker COMMAND``. Each command calls the same
operations as the pages and commits at its end."""
import click
from flask import current_app
from flask.cli import with_appcontext

from models import Department, User
from models.user import ROLES
from tracker import audit
from tracker.extensions import db


def init_app(app):
    """Every command of ``flask --app tracker``: this module's, the jobs' and the backup's
    (the dependency runs one way: this module imports theirs, they do not import it), and
    ``db`` (Flask-Migrate), whose imports wait until it runs."""
    from jobs import cli as jobs_cli
    from tracker.platform import backup

    app.cli.add_command(create_user)
    app.cli.add_command(seed_demo)
    app.cli.add_command(serve)
    app.cli.add_command(LazyMigrateGroup(app))
    jobs_cli.init_app(app)
    backup.init_app(app)


class LazyMigrateGroup(click.Group):
    """``flask db …`` (Flask-Migrate): listed with the other commands, but Flask-Migrate and
    Alembic are imported, and bound to the app, only when a ``db`` command is run or asked for
    its help; every other command starts without them."""

    def __init__(self, app):
        super().__init__("db", help="Perform database migrations.")
        self._app = app

    def _real(self):
        from tracker.extensions import init_migrate

        init_migrate(self._app)  # first: it quietens Alembic's import
        from flask_migrate.cli import db as migrate_group

        return migrate_group

    def make_context(self, info_name, args, parent=None, **extra):
        return self._real().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx):
        return self._real().list_commands(ctx)

    def get_command(self, ctx, name):
        return self._real().get_command(ctx, name)


def make_user(email, name, role, department=None, password=None, designation=""):
    """Create a user (flushes, does not commit). Raises ValueError on bad input."""
    email = email.strip().lower()
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role == "nodal" and department is None:
        raise ValueError("a nodal officer needs a department (--department CODE)")
    if db.session.execute(db.select(User.id).filter_by(email=email)).first():
        raise ValueError(f"a user with e-mail {email} already exists")
    user = User(email=email, name=name, role=role, designation=designation,
                department=department)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("create", "user", user.id,
                 {"email": email, "role": role, "department": department.code if department else None})
    return user


@click.command("create-user")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES), help="The user's role.")
@click.option("--department", "department_code", help="Department code (required for nodal).")
@click.option("--name", help="Full name (defaults to the part of the e-mail before @).")
@click.option("--designation", default="", help="Designation, e.g. 'Nodal Officer'.")
@click.option("--password", help="Password; prompted for when not given.")
@with_appcontext
def create_user(email, role, department_code, name, designation, password):
    """Create a user who can sign in with EMAIL."""
    department = None
    if department_code:
        department = db.session.execute(
            db.select(Department).filter_by(code=department_code.lower())
        ).scalar()
        if department is None:
            raise click.BadParameter(f"no department with code {department_code!r}",
                                     param_hint="--department")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8 and not current_app.testing:
        click.echo("Warning: a password shorter than 8 characters is weak.", err=True)
    try:
        user = make_user(email, name or email.split("@")[0], role, department, password,
                         designation)
    except ValueError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}" +
               (f" of {department.code}" if department else ""))


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has departments.")
@with_appcontext
def seed_demo(if_empty):
    """Load the demo roadmap of UT Ladakh, dated relative to today. Safe to run twice."""
    from tracker import clock, demo

    if if_empty and db.session.execute(db.select(Department.id).limit(1)).first():
        click.echo("Demo data already present; nothing to do.")
        return
    counts = demo.seed(clock.today(), current_app.config["DEMO_PASSWORD"])
    db.session.commit()
    for name, n in counts.items():
        click.echo(f"{name}: {n}")
    click.echo("")
    click.echo(f"Demo accounts (password: {current_app.config['DEMO_PASSWORD']}):")
    for email, role in demo.demo_accounts():
        click.echo(f"  {email:40} {role}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=None, type=int, help="Port (default: PORT setting, 5000).")
@click.option("--scheduler/--no-scheduler", default=True, show_default=True,
              help="Run the scheduler inside this process (single-process setups only).")
@with_appcontext
def serve(host, port, scheduler):
    """Serve the app on HOST:PORT, with the scheduler in-process (the `make run` setup)."""
    from werkzeug.serving import is_running_from_reloader, run_simple

    app = current_app._get_current_object().load_views()  # the first visitor does not wait
    port = port or app.config["PORT"]
    reloader = app.debug
    # With the reloader, only the child process (the one serving) runs the scheduler.
    if scheduler and (not reloader or is_running_from_reloader()):
        from jobs import scheduler as job_scheduler

        started = job_scheduler.start_in_process(app)
        if started:
            click.echo("Scheduler started in-process.")
    run_simple(host, port, app, use_reloader=reloader, use_debugger=app.debug, threaded=True)

