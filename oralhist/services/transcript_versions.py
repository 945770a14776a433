"""An interview's transcript versions: the current one, the list, and restoring an older
one as current.
"""

from __future__ import annotations

from sqlalchemy import select, update

from ..access import policy, require
from ..access.policy import Viewer
from ..errors import NotFound
from ..extensions import db
from ..models import Interview, Transcript
from . import audit, catalogue


def current_transcript(interview: Interview) -> Transcript | None:
    """The version shown and indexed (``Interview.current_transcript``, loaded once per
    request and shared by every panel of the interview page)."""
    return interview.current_transcript


def versions(interview: Interview) -> list[Transcript]:
    return list(
        db.session.scalars(
            select(Transcript)
            .where(Transcript.interview_id == interview.id)
            .order_by(Transcript.version.desc())
        )
    )


def versions_query(interview: Interview):
    return (
        select(Transcript)
        .where(Transcript.interview_id == interview.id)
        .order_by(Transcript.version.desc())
    )


def get_version(interview: Interview, version: int) -> Transcript:
    found = db.session.scalar(
        select(Transcript).where(
            Transcript.interview_id == interview.id, Transcript.version == version
        )
    )
    if found is None:
        raise NotFound(f"Interview {interview.id} has no transcript version {version}.")
    return found


def restore_version(viewer: Viewer, interview: Interview, version: int) -> Transcript:
    """Make an older version current again (the newer ones stay listed)."""
    require(
        policy.can_edit_material(viewer, interview),
        "Only the interview's contributor (while it is a draft) and archivists restore "
        "transcript versions.",
    )
    catalogue.lock_interview(interview.id)
    target = get_version(interview, version)
    db.session.refresh(target)  # as stored now, after any concurrent import or restore
    if target.is_current:
        return target
    db.session.execute(
        update(Transcript)
        .where(Transcript.interview_id == interview.id, Transcript.id != target.id)
        .values(is_current=False)
        .execution_options(synchronize_session="fetch")
    )
    target.is_current = True
    target.proposed = False  # accepting a machine-made version is restoring it
    db.session.flush()
    db.session.expire(interview, ["transcripts"])
    audit.record(viewer, "transcript.restore", "interview", interview.id, version=version)
    return target
