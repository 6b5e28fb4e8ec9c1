"""The blueprints: one per area of the app."""


def register_blueprints(app):
    from tracker.auth import bp as auth
    from views.departments import bp as departments
    from views.flags import bp as flags
    from views.home import bp as home
    from views.notifications import bp as notifications

    for blueprint in (auth, home, departments, flags, notifications):
        app.register_blueprint(blueprint)
