"""The blueprints: one per area of the app."""


def register_blueprints(app):
    from tracker.auth import bp as auth
    from views.departments import bp as departments
    from views.api_help import bp as api_help
    from views.home import bp as home
    from views.profile import bp as profile

    for blueprint in (auth, home, departments, profile, api_help):
        app.register_blueprint(blueprint)

    from views import api

    api.register(app)
