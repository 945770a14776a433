"""The web layer: one blueprint per area. Views parse input, ask the policy, call a service,
commit once (``oralhist.transaction.commit``) and render."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import account, admin, auth, catalogue, main
    from .api import bp as api_bp

    for module in (main, auth, account, admin, catalogue):
        app.register_blueprint(module.bp)
    app.register_blueprint(api_bp)

    from .helpers import template_globals

    app.context_processor(template_globals)
