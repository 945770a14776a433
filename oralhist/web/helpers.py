"""Small pieces the views share: pagination, form re-rendering, template globals."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from flask_login import current_user
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from ..access import current_viewer, now, policy
from ..errors import ValidationError
from ..extensions import db
from ..services import consent
from ..services.fields import MAX_ID, page_args
from ..transcripts.timecode import format_timecode


class BoundedIntegerConverter(IntegerConverter):
    """Every ``<int:...>`` in a route. An id beyond ``MAX_ID`` (the database's integer range)
    names no row: ``/interviews/99999999999999999999`` is a 404 at routing, instead of reaching
    the database driver and overflowing into a 500. (A plain ``max=`` would make werkzeug answer
    405 where another method shares the path, so the converter says 404 itself.)"""

    def to_python(self, value: str) -> int:
        if len(value) > len(str(MAX_ID)) or int(value) > MAX_ID:
            raise NotFound()
        return super().to_python(value)


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(stmt, args=None) -> Page:
    """Run ``stmt`` for the page named in the query string (``page``, ``per_page``)."""
    from sqlalchemy import func, select

    page, per_page = page_args(
        args if args is not None else request.args,
        default_per_page=current_app.config["PER_PAGE"],
        max_per_page=current_app.config["MAX_PER_PAGE"],
    )
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(list(items), page, per_page, total or 0)


def form_errors(error: ValidationError) -> dict[str, str]:
    return dict(error.details.get("fields") or {})


def url_with(**changes: Any) -> str:
    """The current URL with some query arguments replaced (None removes one)."""
    from urllib.parse import urlencode

    args = request.args.to_dict(flat=True)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    query = urlencode(args)
    return request.path + ("?" + query if query else "")


class LazyNavCounts:
    """The navigation's counts (``services.navigation``), queried when a template first
    reads one (base.html does, once per page) and never for a page that does not."""

    def __init__(self) -> None:
        self._counts = None

    def __getattr__(self, name: str) -> int:
        if self.__dict__.get("_counts") is None:
            from ..services.navigation import nav_counts

            self._counts = nav_counts(current_viewer())
        return getattr(self._counts, name)


def shown_title(interview: Any) -> str:
    """Templates' ``shown_title(interview)``: its title as the current viewer may see it
    (anonymised names as labels; ``consent.shown_title``)."""
    return consent.shown_title(current_viewer(), interview)


def template_globals() -> dict[str, Any]:
    return {
        "may": policy.site_permissions(current_viewer()),
        "nav": LazyNavCounts(),
        "url_rules": current_app.view_functions,
        "now": now(),
        "current_user": current_user,
        "url_with": url_with,
        "timecode": lambda ms: format_timecode(ms, style="hms") if ms is not None else "",
    }
