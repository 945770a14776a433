"""Reading transcripts (rows a page at a time, positions, word timings) and exporting
them in every supported format, under the policy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from .. import transcripts as parsing
from ..access import now, policy, require
from ..access.policy import Viewer
from ..errors import NotFound, ValidationError
from ..extensions import db
from ..media import derivatives
from ..models import Interview, Person, Segment, Speaker, Transcript
from ..transcripts.timecode import format_timecode
from ..urls import public_url
from . import audit, consent
from .consent import Redactor
from .transcript_speakers import require_read
from .transcript_versions import current_transcript

#: Media type and file extension of each export format.
EXPORTS = {
    "vtt": ("text/vtt; charset=utf-8", "vtt"),
    "srt": ("application/x-subrip; charset=utf-8", "srt"),
    "txt": ("text/plain; charset=utf-8", "txt"),
    "json": ("application/json", "json"),
    "ohms": ("application/xml; charset=utf-8", "xml"),
}
#: Formats that need time codes (an untimed transcript exports only as txt and json).
TIMED_ONLY = frozenset({"vtt", "srt", "ohms"})


def pack_words(words: Sequence[parsing.Word]) -> list[list[Any]] | None:
    """Word timings as stored: ``[[text, start_ms, end_ms, confidence], ...]``, or None.

    Measured on a 2,000-segment interview with 15 words a segment (bench_transcript.py):
    one JSON value per segment keeps the interview page's query at 2,000 rows; a row per
    word would be 30,000.
    """
    if not words:
        return None
    return [[w.text, w.start_ms, w.end_ms, w.confidence] for w in words]


def unpack_words(packed: Sequence[Sequence[Any]] | None) -> tuple[parsing.Word, ...]:
    """The inverse of :func:`pack_words`."""
    return tuple(parsing.Word(*item) for item in packed or ())


@dataclass(frozen=True, slots=True)
class Row:
    """One segment as the page shows it: plain values computed once, cheap to render 2,000
    times (``t`` is the ``?t=`` value, ``timecode`` the displayed ``h:mm:ss``)."""

    id: int
    start_ms: int | None
    end_ms: int | None
    speaker_id: int | None
    speaker: str
    colour: int | None
    text: str
    t: str
    timecode: str
    note: str | None = None
    #: Whether the segment has word timings (the page fetches them separately).
    has_words: bool = False
    #: Only with ``rows(..., full=True)``: cue id, cue settings, packed words.
    cue_id: str | None = None
    cue_settings: str | None = None
    words: list | None = None

    @property
    def words_json(self) -> list[dict[str, Any]]:
        """The words as the API and JSON export give them."""
        return [
            {"text": t, "start_ms": s, "end_ms": e, "confidence": c}
            for t, s, e, c in self.words or ()
        ]


def position_at(
    transcript: Transcript, *, segment_id: int | None = None, t_ms: int | None = None
) -> int | None:
    """The ordinal (0-based place in reading order) of segment ``segment_id`` of
    ``transcript``, or else of the segment that is playing at ``t_ms`` (the last one
    starting at or before it); None when neither is found. Two look-ups (the row's sort key,
    then a count of the version's rows before it), whatever the transcript's length."""
    holds = transcript.holds(Segment)
    key = None
    if segment_id is not None:
        key = db.session.scalar(select(Segment.position).where(holds, Segment.id == segment_id))
    if key is None and t_ms is not None:
        key = db.session.scalar(
            select(Segment.position)
            .where(holds, Segment.start_ms.is_not(None), Segment.start_ms <= t_ms)
            .order_by(Segment.start_ms.desc(), Segment.position.desc())
            .limit(1)
        )
    if key is None:
        return None
    return db.session.scalar(
        select(func.count()).select_from(Segment).where(holds, Segment.position < key)
    )


def is_timed(transcript: Transcript) -> bool:
    """Whether any segment has a time (one indexed look-up)."""
    return (
        db.session.scalar(
            select(Segment.id)
            .where(transcript.holds(Segment), Segment.start_ms.is_not(None))
            .limit(1)
        )
        is not None
    )


def rows(
    transcript: Transcript,
    *,
    start: int = 0,
    limit: int | None = None,
    full: bool = False,
    redactor: Redactor,
) -> list[Row]:
    """The transcript's segments in order, with speaker names resolved in one query; with
    ``limit``, only the ``limit`` segments from ordinal ``start`` on (a page).

    The page needs no word timings, cue ids or settings (``full=False``): decoding 2,000
    JSON word lists would add ~40 ms to every view, so the page only learns which segments
    have words and the player fetches their times from :func:`word_starts` when needed.

    ``redactor`` (required, so that no caller forgets it: ``consent.redactor_for``) replaces
    redacted passages by their placeholder and anonymised names by their labels.
    """
    names: dict[int, tuple[str, int]] = {}
    speakers = db.session.execute(
        select(Speaker, Person.name)
        .outerjoin(Person, Person.id == Speaker.person_id)
        .where(Speaker.interview_id == transcript.interview_id)
    ).all()
    for speaker, person_name in speakers:
        name = speaker.display_name or person_name or speaker.label
        if redactor:
            name = redactor.name(speaker.person_id, name)
        names[speaker.id] = (name, speaker.id % 8)
    columns = [
        Segment.id,
        Segment.start_ms,
        Segment.end_ms,
        Segment.speaker_id,
        Segment.text,
        Segment.note,
        Segment.words.is_not(None),
    ]
    if full:
        columns += [Segment.cue_id, Segment.cue_settings, Segment.words]
    result = []
    stmt = select(*columns).where(transcript.holds(Segment)).order_by(Segment.position)
    if start:
        stmt = stmt.offset(start)
    if limit is not None:
        stmt = stmt.limit(limit)
    for sid, begin, end, speaker_id, text, note, has_words, *extra in db.session.execute(stmt):
        name, colour = names.get(speaker_id, ("", None)) if speaker_id else ("", None)
        if redactor:
            words = extra[2] if full else None
            text, words, masked = redactor.segment(text, begin, end, words)
            if masked:
                note, has_words = None, False  # a footnote on withheld words is withheld too
            elif note:
                note = redactor.anonymise(note)
            if full:
                extra = [extra[0], extra[1], words]
        if begin is None:
            t = code = ""
        else:
            t, code = parsing.format_t_param(begin), parsing.format_timecode(begin, style="hms")
        result.append(
            Row(
                sid,
                begin,
                end,
                speaker_id,
                name,
                colour,
                text,
                t,
                code,
                note,
                bool(has_words),
                *extra,
            )
        )
    return result


def word_starts(transcript: Transcript, redactor: Redactor) -> dict[int, list[int | None]]:
    """``{segment id: [word start ms, ...]}`` for the segments that have word timings:
    what the player needs to mark the word being spoken (none for a segment with a redacted
    passage: its words are not on the page)."""
    return {
        sid: [word[1] for word in words]
        for sid, start_ms, end_ms, words in db.session.execute(
            select(Segment.id, Segment.start_ms, Segment.end_ms, Segment.words).where(
                transcript.holds(Segment), Segment.words.is_not(None)
            )
        )
        if not redactor.masks.hit(start_ms, end_ms)
    }


def readable_transcript(viewer: Viewer, interview: Interview) -> Transcript:
    require_read(viewer, interview)
    transcript = current_transcript(interview)
    if transcript is None:
        raise NotFound(f"Interview {interview.id} has no transcript yet.")
    return transcript


#: The OHMS viewer picks its player's format from the media URL's last three letters
#: (``substr($url, -3)``): the served format's jPlayer name, as a fragment the server never
#: sees. Recording format -> that name.
_PLAYER_FORMATS = {"mp3": "mp3", "m4a": "m4a", "mp4": "m4a", "aac": "m4a", "wav": "wav"}
_PLAYER_FORMATS |= {"ogg": "oga", "opus": "oga", "oga": "oga"}


def _own_audio_url(interview: Interview) -> str:
    recordings = list(interview.recordings)
    if len(recordings) != 1:
        return ""  # several parts: one address cannot follow the transcript's times
    recording = recordings[0]
    url = public_url("recordings.audio", recording_id=recording.id)
    # the player is sent the access copy (MP3) when there is one, else the master
    copy = derivatives.usable(derivatives.current(recording, "access"))
    served = "mp3" if copy is not None else (recording.format or "").lower()
    return f"{url}#.{_PLAYER_FORMATS[served]}" if served in _PLAYER_FORMATS else url


def metadata(interview: Interview, redactor: Redactor) -> dict[str, str]:
    """What the exports say about the interview (OHMS readers show collection and series)."""
    labels = redactor.person_labels
    return {
        "title": redactor.anonymise(interview.title) or "",
        "accession": interview.accession,
        "repository": "oralhist",
        "collection_name": interview.collection.title if interview.collection else "",
        "description": redactor.anonymise(interview.summary) or "",
        "rights": interview.rights_statement or "",
        "usage": redactor.anonymise(interview.usage) or "",
        "funding": redactor.anonymise(interview.funding) or "",
        "subjects": "; ".join(redactor.anonymise(t) or t for t in interview.subjects or ()),
        "keywords": "; ".join(redactor.anonymise(t) or t for t in interview.keywords or ()),
        # OHMS viewers play this address beside the transcript: the catalogue's own, else
        # this archive's audio of a one-part interview (its route applies the policy)
        "media_url": interview.media_url or _own_audio_url(interview),
        "duration": format_timecode(interview.duration_ms)[:8] if interview.duration_ms else "",
        "language": interview.language or "",
        "interviewee": "; ".join(
            labels.get(p.id, p.name) for p in interview.people_in_role("interviewee")
        ),
        "interviewer": "; ".join(
            labels.get(p.id, p.name) for p in interview.people_in_role("interviewer")
        ),
        "date": interview.date_recorded or "",
        "location": redactor.anonymise(interview.place) or "",
    }


def to_parsing(
    transcript: Transcript, redactor: Redactor
) -> tuple[list[parsing.Segment], list[parsing.IndexPoint]]:
    segments = [
        parsing.Segment(
            r.start_ms,
            r.end_ms,
            r.speaker or None,
            r.text,
            cue_id=r.cue_id,
            cue_settings=r.cue_settings,
            note=r.note,
            words=unpack_words(r.words),
        )
        for r in rows(transcript, full=True, redactor=redactor)
    ]
    points = [
        parsing.IndexPoint(
            start_ms=p.start_ms,
            # as the API shows index points: names anonymised (the OHMS export leaked the
            # real name of an anonymised narrator from a synopsis before)
            title=redactor.anonymise(p.title) or "",
            partial_transcript=redactor.point_text(p.start_ms, p.partial_transcript),
            synopsis=redactor.anonymise(p.synopsis) or "",
            keywords=tuple(redactor.anonymise(k) or k for k in p.keywords or ()),
            subjects=tuple(redactor.anonymise(s) or s for s in p.subjects or ()),
            hyperlinks=tuple((u, t) for u, t in (p.hyperlinks or ())),
            **(p.gps or {}),
        )
        for p in transcript.index_points
    ]
    return segments, points


@dataclass(frozen=True)
class Export:
    content: str
    filename: str
    mimetype: str


def export_transcript(viewer: Viewer, interview: Interview, fmt: str) -> Export:
    """The current transcript in ``fmt``, under ``can_download_transcript``; audited."""
    if fmt not in EXPORTS:
        raise ValidationError(
            f"Choose a format: {', '.join(EXPORTS)}.", fields={"format": "unknown format"}
        )
    require(
        policy.can_download_transcript(viewer, interview, now()),
        "You do not have access to this transcript.",
    )
    transcript = readable_transcript(viewer, interview)
    redactor = consent.redactor_for(viewer, interview)
    segments, points = to_parsing(transcript, redactor)
    if fmt in TIMED_ONLY and segments and any(s.start_ms is None for s in segments):
        raise ValidationError(
            f"This transcript has no time codes, so it cannot be exported as {fmt}; "
            "choose txt or json."
        )
    content = parsing.write_transcript(
        segments, fmt, index_points=points, metadata=metadata(interview, redactor)
    )
    mimetype, extension = EXPORTS[fmt]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", interview.accession).strip("._") or "transcript"
    audit.record(viewer, "transcript.download", "interview", interview.id, format=fmt)
    return Export(content, f"{safe}.{extension}", mimetype)
