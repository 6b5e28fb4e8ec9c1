"""The blueprints: one per area of the app."""


def register_blueprints(app):
    from tracker.auth import bp as auth
    from views.departments import bp as departments
    from views.home import bp as home
    from views.meetings import bp as meetings
    from views.reports import bp as reports

    for blueprint in (auth, home, departments, meetings, reports):
        app.register_blueprint(blueprint)
