"""The listening room's part of the interview page (``templates/player/``): whether the
transcript runs past the end of the audio, told to those who may read it."""

from __future__ import annotations

from typing import Any

from ..access import now, policy
from ..models import Interview
from ..services import listening, transcript_versions
from .catalogue import interview_panel


@interview_panel
def listening_panel(interview: Interview, viewer) -> dict[str, Any]:
    """Template variables (``pl_*``) of ``player/_mismatch.html``."""
    if not policy.can_read_transcript(viewer, interview, now()):
        return {"pl_overrun_ms": None}
    transcript = transcript_versions.current_transcript(interview)
    return {"pl_overrun_ms": listening.transcript_overrun_ms(interview, transcript)}
