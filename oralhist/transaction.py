"""The one commit at the edge: views and CLI commands call ``commit()`` once.

It commits the database transaction and only then applies the queued search-index work
(see ``services.indexing``), so the index never shows what the database does not hold.
"""

from __future__ import annotations

from flask import current_app

from .extensions import db


def commit() -> None:
    db.session.commit()
    if current_app.config.get("SEARCH_SYNC", True):
        from .services import indexing

        indexing.process_pending()
