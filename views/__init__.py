"""The blueprints: one per area of the app."""


def register_blueprints(app):
    from views.auth import bp as auth
    from views.admin import bp as admin
    from views.api_help import bp as api_help
    from views.attachments import bp as attachments
    from views.audit import bp as audit
    from views.bottlenecks import bp as bottlenecks
    from views.dashboard import bp as dashboard
    from views.departments import bp as departments
    from views.flags import bp as flags
    from views.home import bp as home
    from views.jobs import bp as jobs
    from views.meetings import bp as meetings
    from views.milestones import bp as milestones
    from views.notifications import bp as notifications
    from views.plans import bp as plans
    from views.profile import bp as profile
    from views.reports import bp as reports
    from views.services import bp as services
    from views.websites import bp as websites

    for blueprint in (auth, home, departments, plans, milestones, bottlenecks, audit, profile,
                      api_help, services, websites, dashboard, flags, notifications, meetings,
                      reports, jobs, admin, attachments):
        app.register_blueprint(blueprint)

    from views import api

    api.register(app)
