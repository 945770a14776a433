"""The transcript editor's pages: the editor (the whole current version, edited in place
and saved through the API as one new version) and the difference between two versions.

The editor is for the record's editors (``policy.can_edit_transcript``: archivists, and the
contributor of a draft); the difference is for anyone who may read the transcript. The
interview page gets an "Edit transcript" link from ``editor_panel``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for

from ..access import current_viewer, now, policy
from ..errors import NotFound, ValidationError
from ..models import Interview
from ..services import (
    catalogue,
    consent,
    transcript_editing,
    transcript_export,
    transcript_speakers,
    transcript_versions,
)
from ..services.fields import record_id
from ..transcripts import format_timecode
from .catalogue import interview_panel
from .recordings import recordings_panel

bp = Blueprint("editor", __name__)


def editor_timecode(ms: int | None) -> str:
    """``h:mm:ss.mmm``: the editor shows milliseconds, since it sets times to them."""
    if ms is None:
        return ""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"


@interview_panel
def editor_panel(interview: Interview, viewer) -> dict[str, Any]:
    """``ed_url``: the editor's address when the viewer may edit a transcript there is."""
    if not policy.can_edit_transcript(viewer, interview) or interview.current_transcript is None:
        return {"ed_url": None}
    return {"ed_url": url_for("editor.edit", interview_id=interview.id)}


@bp.get("/interviews/<int:interview_id>/transcript/edit")
def edit(interview_id: int):
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    transcript_editing.require_edit(viewer, interview)
    transcript = interview.current_transcript
    if transcript is None:
        raise NotFound(f"Interview {interview.id} has no transcript to edit yet; import one.")
    # editors see the whole transcript (``policy.can_edit_transcript``: while anything is
    # withheld, only archivists edit)
    rows = transcript_export.rows(transcript, redactor=consent.redactor_for(viewer, interview))
    speakers = [s for s, _ in transcript_speakers.speakers_with_counts(interview)]
    points = [
        {
            "id": p.id,
            "start_ms": p.start_ms,
            "title": p.title,
            "synopsis": p.synopsis,
            "keywords": list(p.keywords or []),
        }
        for p in transcript.index_points
    ]
    return render_template(
        "transcripts/edit.html",
        interview=interview,
        transcript=transcript,
        rows=rows,
        speakers=speakers,
        points=points,
        # Word timings (for where a split's second part starts) are fetched by the page
        # after it has loaded: decoding 38,000 timed words would double its render time.
        words_url=url_for("transcripts.word_timings", interview_id=interview.id)
        if any(r.has_words for r in rows)
        else None,
        edtc=editor_timecode,
        saved=record_id(request.args.get("saved", "")),
        **recordings_panel(interview, viewer),
    )


@bp.get("/interviews/<int:interview_id>/transcript/versions/<int:version>/diff")
def diff(interview_id: int, version: int):
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    transcript_speakers.require_read(viewer, interview)
    target = transcript_versions.get_version(interview, version)
    raw = request.args.get("against", "")
    if raw:
        against = record_id(raw)
        if against is None:
            raise ValidationError("'against' must be a version number.")
    else:
        against = target.base_version or max(1, version - 1)
    found = transcript_versions.diff_versions(
        interview, against, version, redactor=consent.redactor_for(viewer, interview)
    )
    return render_template(
        "transcripts/diff.html",
        interview=interview,
        diff=found,
        timecode=lambda ms: "" if ms is None else format_timecode(ms, style="hms"),
        can_edit=policy.can_edit_transcript(viewer, interview),
        readable=policy.can_read_transcript(viewer, interview, now()),
    )
