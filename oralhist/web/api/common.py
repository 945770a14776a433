"""Request parsing and list envelopes shared by the API modules."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from ...errors import ValidationError
from ..helpers import paginate


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400/422 that says what is wrong with it."""
    if not request.is_json:
        raise ValidationError("Send a JSON object with Content-Type: application/json.")
    data = request.get_json(silent=True)
    if data is None:
        raise ValidationError("The request body is not valid JSON.")
    if not isinstance(data, dict):
        raise ValidationError("The request body must be a JSON object.")
    return data


def page_of(stmt, serialise) -> Any:
    page = paginate(stmt)
    return jsonify(
        items=[serialise(item) for item in page.items],
        page=page.page,
        per_page=page.per_page,
        total=page.total,
    )
