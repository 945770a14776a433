"""API: recordings (upload, read, label/reorder, delete).

The upload body is streamed (``oralhist.web.streamed_upload``): the preprocessor that starts
reading it is registered on the ``api`` blueprint below, for the ``api.upload_recording``
endpoint only; ``services.recordings.add_uploads`` reads it (shared with the page).
"""

from __future__ import annotations

from flask import jsonify

from ...access import current_viewer, now, policy
from ...services import catalogue, recordings
from .. import streamed_upload
from . import bp
from .common import json_body
from .serialise import recording_json


def _recording_json(recording, viewer) -> dict:
    data = recording_json(recording, viewer)
    interview = recording.interview
    if policy.can_listen(viewer, interview, now()):
        from flask import url_for

        from ...media import derivatives

        # The player's waveform (GET .../waveform), and whether the access copy is made.
        data["waveform_url"] = url_for("api.recording_waveform", recording_id=recording.id)
        data["access_copy"] = derivatives.current(recording, "access") is not None
    if policy.can_download_master(viewer, interview, now()):
        from flask import url_for

        data["download_url"] = url_for("recordings.download", recording_id=recording.id)
    return data


@bp.url_value_preprocessor
def _stream_upload(endpoint, values) -> None:
    from flask import request

    if endpoint == "api.upload_recording" and request.method == "POST":
        streamed_upload.begin()


@bp.post("/interviews/<int:interview_id>/recordings")
def upload_recording(interview_id: int):
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    (recording,) = recordings.add_uploads(viewer, interview, streamed_upload.current())
    data = _recording_json(recording, viewer)
    suggestions = recordings.tag_suggestions(interview, [recording])
    if suggestions:
        data["catalogue_suggestions"] = suggestions
    return jsonify(data), 201


@bp.get("/recordings/<int:recording_id>")
def get_recording(recording_id: int):
    viewer = current_viewer()
    return jsonify(_recording_json(recordings.get_recording(recording_id, viewer), viewer))


@bp.patch("/recordings/<int:recording_id>")
def update_recording(recording_id: int):
    viewer = current_viewer()
    recording = recordings.get_recording(recording_id, viewer)
    recordings.update_recording(viewer, recording, json_body())
    return jsonify(_recording_json(recording, viewer))


@bp.delete("/recordings/<int:recording_id>")
def delete_recording(recording_id: int):
    viewer = current_viewer()
    recording = recordings.get_recording(recording_id, viewer)
    recordings.delete_recording(viewer, recording)
    return "", 204
