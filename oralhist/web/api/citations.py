"""API: a citation for any moment or range of an interview (Chicago and MLA, with the
permalink that opens the player there and stops at the end)."""

from __future__ import annotations

from flask import current_app, jsonify, request

from ...access import current_viewer
from ...errors import ValidationError
from ...services import catalogue, citations
from ...transcripts.timecode import format_timecode, parse_t_param
from . import bp


def _time_arg(name: str, *, required: bool) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        if required:
            raise ValidationError(
                f"{name} is required: the moment to cite, in seconds (e.g. 61.5) or h:mm:ss",
                fields={name: "is required"},
            )
        return None
    try:
        return parse_t_param(raw)
    except ValueError:
        raise ValidationError(
            f"{name}={raw[:40]!r} is not a time: give seconds (e.g. 61.5) or h:mm:ss(.mmm)",
            fields={name: "is not a time"},
        ) from None


@bp.get("/interviews/<int:interview_id>/citation")
def cite_interview(interview_id: int):
    """``?t=START[&end=END]`` -> ``{start_ms, end_ms, url, chicago_note,
    chicago_bibliography, mla, mla_in_text}``; the record must be visible to the viewer."""
    interview = catalogue.get_interview(interview_id, current_viewer())
    start_ms = _time_arg("t", required=True)
    end_ms = _time_arg("end", required=False)
    duration = interview.duration_ms or 0
    for name, value in (("t", start_ms), ("end", end_ms)):
        if value is not None and duration and value > duration:
            length = format_timecode(duration, style="hms")
            raise ValidationError(
                f"{name} is after the end of the interview ({length})",
                fields={name: "is after the end of the interview"},
            )
    if end_ms is not None and end_ms <= start_ms:
        raise ValidationError(
            "end must come after t (the range to cite runs from t to end)",
            fields={"end": "is not after t"},
        )
    citation = citations.cite(
        interview, start_ms, end_ms, archive=current_app.config.get("ARCHIVE_NAME") or ""
    )
    return jsonify(citation.as_json())
