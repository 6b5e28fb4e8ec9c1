"""The blueprints: one per area of the app."""


def register_blueprints(app):
    from tracker.auth import bp as auth
    from views.dashboard import bp as dashboard
    from views.departments import bp as departments
    from views.home import bp as home

    for blueprint in (auth, home, departments, dashboard):
        app.register_blueprint(blueprint)
