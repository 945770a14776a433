"""The web layer: one blueprint per area. Views parse input, ask the policy, call a service
and render; each request is one unit of work (``oralhist.transaction``): it commits once
after a successful write, and rolls back on any error. Views never commit themselves."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import (
        access,
        account,
        admin,
        alignment,
        auth,
        catalogue,
        consent,
        deposit,
        discovery,
        documents,
        editor,
        iiif,
        jobs,
        listening,
        main,
        media_check,
        oai,
        recordings,
        review,
        search,
        transcripts,
    )
    from .api import bp as api_bp
    from .helpers import BoundedIntegerConverter

    # Before any rule is added: every route's ids are bounded to the database's range.
    app.url_map.converters["int"] = BoundedIntegerConverter
    for module in (
        main,
        auth,
        account,
        admin,
        catalogue,
        search,
        access,
        recordings,
        transcripts,
        editor,
        documents,
        consent,
        jobs,
        oai,
        iiif,
        discovery,
        review,
        deposit,
        listening,
        alignment,
        media_check,
    ):
        app.register_blueprint(module.bp)
    app.register_blueprint(api_bp)

    from .helpers import shown_title, template_globals, url_with

    app.context_processor(template_globals)
    # Also a Jinja global, so macros imported without context (pagination) can use it.
    app.jinja_env.globals["url_with"] = url_with
    app.jinja_env.globals["shown_title"] = shown_title
    from ..urls import public_url

    app.jinja_env.globals["public_url"] = public_url
