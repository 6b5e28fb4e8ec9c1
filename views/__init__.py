"""The blueprints: one per area of the app."""


def register_blueprints(app):
    from tracker.auth import bp as auth
    from views.departments import bp as departments
    from views.home import bp as home

    for blueprint in (auth, home, departments):
        app.register_blueprint(blueprint)
