"""The JSON API under ``/api/v1`` (a contract: see DESIGN.md "The JSON API").

Authentication: the session cookie (with the CSRF token in ``X-CSRFToken`` for writes) or
``Authorization: Bearer TOKEN``. Without credentials where they are needed: 401 with
``WWW-Authenticate: Bearer`` (``oralhist.web.gate``, ``oralhist.errors``).
Errors: ``{"error": {"code", "message", "details"}}``.
Lists: ``{"items": [...], "page", "per_page", "total"}``.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import (  # noqa: E402,F401  (routes register on bp)
    access,
    alignment,
    catalogue,
    citations,
    consent,
    deposit,
    derivatives,
    documents,
    jobs,
    recordings,
    search,
    speaker_merges,
    transcripts,
)
from . import editing as _editing  # noqa: E402,F401  (the transcript editor's routes)
