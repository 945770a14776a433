"""oralhist: an archive for oral history interviews.

``create_app`` builds the Flask application: configuration (defaults, then
``instance/config.py``, then ``OH_`` environment variables, then ``test_config``),
extensions, blueprints, error handlers and the CLI. It never creates or migrates tables:
``oralhist init`` does that.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask, g

from . import config as default_config

__version__ = "0.1.0"


def create_app(test_config: Mapping[str, Any] | None = None, *, instance_path: str | None = None):
    instance_path = instance_path or os.environ.get("OH_INSTANCE_PATH")
    if instance_path is None:
        # The project folder (where `oralhist` is run) holds instance/ and media/.
        instance_path = os.path.join(os.getcwd(), "instance")
    app = Flask(
        __name__, instance_path=os.path.abspath(instance_path), instance_relative_config=True
    )
    app.config.from_object(default_config)
    app.config.from_pyfile("config.py", silent=True)
    default_config.load_env(app.config)
    if test_config:
        app.config.from_mapping(test_config)
    default_config.resolve_paths(app.config, app.instance_path)
    from .search.backend import check_backend

    check_backend(app.config)  # an unknown engine, or a whoosh of another version: say so now
    if app.config.get("TRUSTED_HOSTS") is None:
        from .urls import trusted_hosts

        app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    if int(app.config.get("PROXY_COUNT") or 0) > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]
    if not app.config.get("SECRET_KEY"):
        # Not initialised yet (`oralhist init` writes the key): a throwaway key keeps the
        # CLI usable, and sessions simply do not survive a restart.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        app.config["OH_EPHEMERAL_SECRET"] = True

    from .extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(__file__), "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    login_manager.init_app(app)
    csrf.init_app(app)
    _configure_sqlite(app, db)
    _configure_login(app)

    from .errors import register_error_handlers
    from .web import register_blueprints

    register_blueprints(app)
    register_error_handlers(app)
    from . import transaction

    transaction.init_app(app)
    from .services import deposit as _deposit

    _deposit.install_listeners()  # a finished deposit job tells its depositor
    _security_headers(app)

    from .cli import guard_commands, register_cli

    register_cli(app)
    guard_commands(app)  # last: every command but init first checks the archive is there
    return app


def _configure_sqlite(app: Flask, db) -> None:
    """WAL mode and a busy timeout for SQLite, so readers never block the writer."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "savepoint")
    def _begin_before_savepoint(connection, _name):
        # pysqlite opens a transaction only before INSERT/UPDATE/DELETE, so a SAVEPOINT sent
        # first would itself start the transaction and its RELEASE would COMMIT everything
        # (a later rollback then undid nothing). Begin the real transaction first.
        dbapi_connection = connection.connection.dbapi_connection
        if not dbapi_connection.in_transaction:
            dbapi_connection.execute("BEGIN")


def _configure_login(app: Flask) -> None:
    from .extensions import db, login_manager
    from .models import User

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(session_id: str):
        # The session holds "id:generation" (User.get_id); a generation that has moved on
        # (sign-out, password change) ends every session and cookie issued before.
        parsed = User.parse_session_id(session_id)
        if parsed is None:
            return None
        user = db.session.get(User, parsed[0])
        if user is None or not user.active or user.session_generation != parsed[1]:
            return None
        return user

    @login_manager.request_loader
    def load_user_from_token(req):
        header = req.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        from .services.accounts import user_for_token

        user = user_for_token(header[len("Bearer ") :].strip())
        if user is not None:
            g.oh_token_auth = True
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        from .errors import AccessDenied

        raise AccessDenied("Please sign in first.")

    # Credentials, CSRF and body limits are checked before the body is read.
    from .web.gate import register_gate

    register_gate(app)


def _security_headers(app: Flask) -> None:
    csp = (
        "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
        "script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
