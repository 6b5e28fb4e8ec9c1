"""The blueprints: one per area of the app."""


def register_blueprints(app):
    from tracker.auth import bp as auth
    from views.departments import bp as departments
    from views.home import bp as home
    from views.services import bp as services
    from views.websites import bp as websites

    for blueprint in (auth, home, departments, services, websites):
        app.register_blueprint(blueprint)
