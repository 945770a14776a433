"""API: what is derived from a recording's audio (``media.derivatives``): its waveform.

``GET /api/v1/recordings/<id>/waveform`` is the recording's peaks in the BBC audiowaveform
JSON format, version 2 (``media/waveform.py``)::

    {"version": 2, "channels": 1, "sample_rate": 8000, "samples_per_pixel": 3200,
     "bits": 8, "length": N, "data": [min0, max0, min1, max1, ...]}

one (min, max) int8 pair per 0.4 s of the recording (``samples_per_pixel /
sample_rate`` seconds), computed once at ingest. Who may: whoever may listen to the
recording (the peaks are drawn from its audio); 404 for a recording whose record the
viewer may not see, and 404 ``not_ready`` while the waveform is still being computed.
Conditional requests (``ETag``: the file's sha256) get 304.
"""

from __future__ import annotations

from ...access import current_viewer, now, policy, require
from ...errors import NotFound
from ...media import derivatives
from ...services import recordings
from . import bp


class WaveformNotReady(NotFound):
    code = "not_ready"


@bp.get("/recordings/<int:recording_id>/waveform")
def recording_waveform(recording_id: int):
    viewer = current_viewer()
    recording = recordings.get_recording(recording_id, viewer)
    require(
        policy.can_listen(viewer, recording.interview, now()),
        policy.level_sentence(recording.interview, now()),
    )
    made = derivatives.usable(derivatives.current(recording, "waveform"))
    if made is None:
        raise WaveformNotReady(
            f"The waveform of recording {recording_id} is not computed yet: it is made in the"
            " background after the upload. Try again in a minute."
        )
    response = recordings.storage().send(
        made.storage_key, mimetype="application/json", etag=made.sha256
    )
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response
