"""Transcripts of an interview: import (versioned, all or nothing) and its upload limits.

Versions and restore are ``services.transcript_versions``; speakers and segment
reassignment ``services.transcript_speakers``; reading and export
``services.transcript_export``.

An import parses the whole file first (``oralhist.transcripts``, pure) and only then writes:
a new ``Transcript`` version that becomes current, the interview's ``Speaker`` rows by label
(labels already known to the interview are reused, so a speaker keeps its name, person and
colour across versions), its segments and index points. The caller commits once; any error
leaves nothing behind. A dry run parses and reports the same counts and warnings without
writing anything.

Speakers belong to the interview, not to a version: renaming or linking one changes every
version, and merging moves the segments of every version, so restoring an older version
never points at a speaker that no longer exists.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import langcodes
from flask import current_app
from sqlalchemy import func, insert, select, update

from .. import transcripts as parsing
from ..access import policy, require
from ..access.policy import Viewer
from ..errors import TooLarge, ValidationError
from ..extensions import db
from ..models import IndexPoint, Interview, Person, Segment, Speaker, Transcript
from ..models.transcript import POSITION_GAP
from . import audit, catalogue, fields, transcript_versions
from .transcript_export import pack_words

#: How many segments a preview (dry run) shows.
PREVIEW_SEGMENTS = 10
LABEL_MAX = 120


def max_bytes() -> int:
    """The largest transcript file accepted (``TRANSCRIPT_MAX_BYTES``, default 25 MB)."""
    return int(current_app.config.get("TRANSCRIPT_MAX_BYTES", parsing.DEFAULT_MAX_BYTES))


def segment_limit(viewer: Viewer, *, large: bool = False) -> int:
    """The most segments ``viewer`` may import in one transcript: ``TRANSCRIPT_MAX_SEGMENTS``
    (default 50,000), or with ``large`` (archivists only) ``TRANSCRIPT_MAX_SEGMENTS_LARGE``
    (default 1,000,000). Raises ``AccessDenied`` when someone else asks for ``large``."""
    config = current_app.config
    if large:
        require(
            policy.can_manage(viewer),
            "Only archivists import transcripts larger than "
            f"{int(config['TRANSCRIPT_MAX_SEGMENTS']):,} segments.",
        )
        return int(config["TRANSCRIPT_MAX_SEGMENTS_LARGE"])
    return int(config["TRANSCRIPT_MAX_SEGMENTS"])


def _check_segment_count(viewer: Viewer, count: int, filename: str, large: bool) -> None:
    limit = segment_limit(viewer, large=large)
    if count <= limit:
        return
    how = (
        ""
        if large
        else f" An archivist can import it with the option large=true (up to "
        f"{int(current_app.config['TRANSCRIPT_MAX_SEGMENTS_LARGE']):,})."
    )
    setting = "TRANSCRIPT_MAX_SEGMENTS_LARGE" if large else "TRANSCRIPT_MAX_SEGMENTS"
    raise ValidationError(
        f"{filename} has {count:,} segments; a transcript may have at most {limit:,} "
        f"({setting}).{how}",
        fields={"file": f"more than {limit:,} segments"},
        max_segments=limit,
        segments=count,
    )


def check_request_size(content_length: int | None) -> None:
    """Refuse (413) a request whose declared body is far beyond :func:`max_bytes`, before
    its multipart body is parsed and spooled."""
    limit = max_bytes()
    if content_length is not None and content_length > limit + 1024 * 1024:
        raise TooLarge(
            f"The upload is {content_length:,} bytes; a transcript may be at most {limit:,} bytes.",
            max_bytes=limit,
        )


def read_upload(stream, filename: str) -> bytes:
    """Read an uploaded file, refusing (413) one larger than :func:`max_bytes` without ever
    holding more than the limit in memory."""
    limit = max_bytes()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(
            f"{filename or 'The transcript'} is larger than {limit:,} bytes, the most a "
            "transcript may be.",
            filename=filename,
            max_bytes=limit,
        )
    return data


# --- import --------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import found (and, unless ``dry_run``, saved)."""

    filename: str
    format: str
    segment_count: int
    speakers: list[str]
    new_speakers: list[str]
    warnings: list[parsing.ParseWarning]
    header: dict[str, str]
    index_count: int
    timed: bool
    preview: list[parsing.Segment] = field(default_factory=list)
    dry_run: bool = False
    transcript: Transcript | None = None

    @property
    def version(self) -> int | None:
        return self.transcript.version if self.transcript is not None else None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "dry_run": self.dry_run,
            "filename": self.filename,
            "format": self.format,
            "version": self.version,
            "segments": self.segment_count,
            "speakers": len(self.speakers),
            "speaker_labels": self.speakers,
            "new_speakers": self.new_speakers,
            "index_points": self.index_count,
            "timed": self.timed,
            "warnings": [{"line": w.line, "message": w.message} for w in self.warnings],
            "header": self.header,
        }
        if self.dry_run:
            data["preview"] = [
                {"start_ms": s.start_ms, "end_ms": s.end_ms, "speaker": s.speaker, "text": s.text}
                for s in self.preview
            ]
        return data


def _label(speaker: str | None) -> str | None:
    return speaker[:LABEL_MAX].strip() if speaker else None


def import_transcript(
    viewer: Viewer,
    interview: Interview,
    data: bytes,
    filename: str,
    fmt: str | None = None,
    *,
    dry_run: bool = False,
    index_points: Sequence[parsing.IndexPoint] | None = None,
    language: str | None = None,
    large: bool = False,
) -> ImportResult:
    """Parse ``data`` and, unless ``dry_run``, store it as the interview's new current
    version. ``index_points`` (the sample's ``index.json``) replace any the file holds.
    More segments than ``segment_limit`` (``large``: an archivist's higher limit) is a 422
    naming the limit, in a dry run too.

    Raises ``TranscriptError`` (422, naming file and line) for a file that cannot be read;
    nothing is written in that case. The caller commits.
    """
    require(
        policy.can_edit_material(viewer, interview),
        lambda: policy.edit_refusal(
            viewer,
            interview,
            "Only the interview's contributor (while it is a draft) and archivists import "
            "transcripts.",
        ),
    )
    filename = (filename or "transcript").strip()[:255] or "transcript"
    if fmt is not None and fmt not in parsing.FORMATS:
        raise ValidationError(
            f"The format {fmt!r} is not one of {', '.join(parsing.FORMATS)}.",
            fields={"format": "unknown format"},
        )
    duration = interview.duration_ms or None
    parsed = parsing.parse_transcript(
        data, filename, fmt, duration_ms=duration, max_bytes=max_bytes()
    )
    _check_segment_count(viewer, len(parsed.segments), filename, large)
    points = list(index_points) if index_points is not None else list(parsed.index_points)
    labels: list[str] = []
    for segment in parsed.segments:
        label = _label(segment.speaker)
        if label and label not in labels:
            labels.append(label)
    known = {
        s.label: s
        for s in db.session.scalars(select(Speaker).where(Speaker.interview_id == interview.id))
    }
    result = ImportResult(
        filename=filename,
        format=parsed.format,
        segment_count=len(parsed.segments),
        speakers=labels,
        new_speakers=[label for label in labels if label not in known],
        warnings=list(parsed.warnings),
        header=dict(parsed.header),
        index_count=len(points),
        timed=any(s.start_ms is not None for s in parsed.segments),
        preview=list(parsed.segments[:PREVIEW_SEGMENTS]),
        dry_run=dry_run,
    )
    if dry_run:
        return result

    # One import (or restore) of this interview at a time from here to the commit: the version
    # number, the current flag and the new speakers are decided on what the last one stored.
    catalogue.lock_interview(interview.id)
    known = {
        s.label: s
        for s in db.session.scalars(select(Speaker).where(Speaker.interview_id == interview.id))
    }
    result.new_speakers = [label for label in labels if label not in known]
    version = (
        db.session.scalar(
            select(func.max(Transcript.version)).where(Transcript.interview_id == interview.id)
        )
        or 0
    ) + 1
    db.session.execute(
        update(Transcript)
        .where(Transcript.interview_id == interview.id, Transcript.is_current.is_(True))
        .values(is_current=False)
        .execution_options(synchronize_session="fetch")
    )
    transcript_versions.retire_open_rows(interview.id, version - 1)
    transcript = Transcript(
        interview_id=interview.id,
        version=version,
        is_current=True,
        language=(language or interview.language or "en")[:35],
        source_format=parsed.format,
        source_filename=filename,
        segment_count=len(parsed.segments),
        warnings=[{"line": w.line, "message": w.message} for w in parsed.warnings],
        created_by_id=viewer.user_id,
    )
    db.session.add(transcript)
    for label in result.new_speakers:
        speaker = Speaker(interview_id=interview.id, label=label)
        db.session.add(speaker)
        known[label] = speaker
    db.session.flush()
    rows = [
        {
            "transcript_id": transcript.id,
            "position": position * POSITION_GAP,
            "start_ms": segment.start_ms,
            "end_ms": segment.end_ms,
            "speaker_id": known[label].id if (label := _label(segment.speaker)) else None,
            "text": segment.text,
            "cue_id": segment.cue_id,
            "cue_settings": segment.cue_settings,
            "note": segment.note,
            "words": pack_words(segment.words),
        }
        for position, segment in enumerate(parsed.segments)
    ]
    if rows:
        db.session.execute(insert(Segment), rows)
    for position, point in enumerate(points):
        db.session.add(_index_row(transcript, position, point))
    db.session.flush()
    db.session.expire(interview, ["transcripts", "speakers"])
    audit.record(
        viewer,
        "transcript.import",
        "interview",
        interview.id,
        version=version,
        format=parsed.format,
        filename=filename,
        segments=len(parsed.segments),
    )
    result.transcript = transcript
    return result


def _index_row(transcript: Transcript, position: int, point: parsing.IndexPoint) -> IndexPoint:
    return IndexPoint(
        transcript_id=transcript.id,
        position=position * POSITION_GAP,
        start_ms=point.start_ms,
        title=point.title,
        partial_transcript=point.partial_transcript,
        synopsis=point.synopsis,
        keywords=list(point.keywords),
        subjects=list(point.subjects),
        hyperlinks=[list(link) for link in point.hyperlinks],
        gps={"gps": point.gps, "gps_zoom": point.gps_zoom, "gps_text": point.gps_text}
        if point.gps
        else None,
    )


def index_points_from_json(items: Iterable[Mapping[str, Any]]) -> list[parsing.IndexPoint]:
    """Index points from a list of mappings such as the sample's ``index.json``."""
    points = []
    for n, item in enumerate(items, start=1):
        try:
            points.append(
                parsing.IndexPoint(
                    start_ms=int(item["start_ms"]),
                    title=str(item.get("title") or ""),
                    partial_transcript=str(item.get("partial_transcript") or ""),
                    synopsis=str(item.get("synopsis") or ""),
                    keywords=tuple(str(k) for k in item.get("keywords") or ()),
                    subjects=tuple(str(k) for k in item.get("subjects") or ()),
                    hyperlinks=tuple((str(u), str(t)) for u, t in (item.get("hyperlinks") or ())),
                    **{
                        key: str(value)
                        for key, value in dict(item.get("gps") or {}).items()
                        if key in {"gps", "gps_zoom", "gps_text"}
                    },
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"Index point {n} is not valid: {exc}.") from exc
    return points


# --- header fields offered to the catalogue ------------------------------------------------

_DATE_FORMATS = ("%d %B %Y", "%B %d, %Y", "%B %d %Y", "%d %b %Y", "%b %d, %Y", "%Y-%m-%d")


def partial_iso_date(text: str) -> str | None:
    """``"7 February 1994"`` -> ``"1994-02-07"``; ``"June 1957"`` -> ``"1957-06"``; else None."""
    text = " ".join(text.replace(".", " ").split()).strip(" ,")
    if re.fullmatch(r"\d{4}(-\d{2}){0,2}", text):
        try:
            if len(text) == 10:
                dt.date.fromisoformat(text)
            elif len(text) == 7:
                dt.date.fromisoformat(text + "-01")
        except ValueError:
            return None
        return text
    for form in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, form).date().isoformat()
        except ValueError:
            continue
    for form in ("%B %Y", "%b %Y"):
        try:
            return dt.datetime.strptime(text, form).strftime("%Y-%m")
        except ValueError:
            continue
    return None


def _names(value: str) -> list[str]:
    parts = re.split(r"\s*;\s*|\s+and\s+|\s*&\s*", value)
    return [" ".join(p.split())[:255] for p in parts if p.strip()]


@dataclass(frozen=True)
class Prefill:
    """A catalogue field the file's header can fill because the record leaves it empty."""

    key: str  # "interviewee", "interviewer", "date", "location", "summary", "rights", ...
    label: str
    value: str  # what is shown
    stored: str | list[str]  # what would be stored


#: OHMS record fields that fill an empty catalogue text field of the same meaning:
#: offer key -> (header key, interview attribute, label, longest stored length).
_TEXT_PREFILLS = {
    "summary": ("description", "summary", "Summary", 20000),
    "rights": ("rights", "rights_statement", "Rights statement", 5000),
    "usage": ("usage", "usage", "Usage", 5000),
    "funding": ("funding", "funding", "Funding", 5000),
}


def language_tag(value: str) -> str | None:
    """A language as the catalogue stores it (a BCP 47 tag such as ``en``), from a tag or
    a name as OHMS records write it (``English``, ``eng``); None when not recognised."""
    value = " ".join(value.split())
    first = re.split(r"\s*[;,/]\s*|\s+and\s+", value)[0] if value else ""
    if not first:
        return None
    try:
        if langcodes.tag_is_valid(first):
            return langcodes.standardize_tag(first)
        return langcodes.find(first).to_tag()
    except (LookupError, ValueError):
        return None


def prefill_suggestions(interview: Interview, header: Mapping[str, str]) -> list[Prefill]:
    """Header fields the catalogue record lacks: interviewee, interviewer, date, place, and
    (from OHMS) description, rights, usage, funding, subjects, keywords, media URL and a
    language other than the record's default."""
    found: list[Prefill] = []
    for role in ("interviewee", "interviewer"):
        names = _names(header.get(role, ""))
        if names and not interview.people_in_role(role):
            found.append(Prefill(role, role.capitalize(), "; ".join(names), names))
    date = partial_iso_date(header.get("date", ""))
    if date and not interview.date_recorded:
        found.append(Prefill("date", "Date recorded", header["date"], date))
    place = " ".join(header.get("location", "").split())[:255]
    if place and not interview.place:
        found.append(Prefill("location", "Place", place, place))
    for key, (header_key, attribute, label, longest) in _TEXT_PREFILLS.items():
        value = header.get(header_key, "").strip()[:longest]
        if value and not (getattr(interview, attribute) or "").strip():
            found.append(Prefill(key, label, value, value))
    for key, label in (("subjects", "Subjects"), ("keywords", "Keywords")):
        terms = [t[:255] for t in _terms(header.get(key, ""))][: fields.MAX_TERMS]
        if terms and not getattr(interview, key):
            found.append(Prefill(key, label, "; ".join(terms), terms))
    media_url = header.get("media_url", "").strip()
    if fields.WEB_ADDRESS.match(media_url) and len(media_url) <= 2048 and not interview.media_url:
        found.append(Prefill("media_url", "Media URL", media_url, media_url))
    language = language_tag(header.get("language", ""))
    if language and language != (interview.language or "en"):
        found.append(Prefill("language", "Language", header["language"], language))
    return found


def _terms(value: str) -> list[str]:
    return list(dict.fromkeys(" ".join(t.split()) for t in value.split(";") if t.strip()))


#: Header fields shown in the preview that the catalogue record has no field for.
RECORD_EXTRAS = {
    "gps": "GPS point",
    "gps_text": "GPS label",
    "collection_name": "Collection",
    "series_name": "Series",
}


def header_extras(header: Mapping[str, str]) -> list[tuple[str, str]]:
    """``(label, value)`` of the file's record-level fields that no catalogue field takes,
    so the contributor sees them in the preview and can copy what matters."""
    return [(label, header[key]) for key, label in RECORD_EXTRAS.items() if header.get(key)]


def apply_prefill(
    viewer: Viewer, interview: Interview, header: Mapping[str, str], chosen: Iterable[str]
) -> list[str]:
    """Fill the chosen empty catalogue fields from the header; return the labels filled.

    People are matched by exact name or created; nothing already in the record changes.
    """
    chosen = set(chosen)
    offers = [p for p in prefill_suggestions(interview, header) if p.key in chosen]
    if not offers:
        return []
    data: dict[str, Any] = {}
    participants = [{"person_id": p.person_id, "role": p.role} for p in interview.participants]
    for offer in offers:
        if offer.key == "date":
            data["date_recorded"] = offer.stored
        elif offer.key == "location":
            data["place"] = offer.stored
        elif offer.key in _TEXT_PREFILLS:
            data[_TEXT_PREFILLS[offer.key][1]] = offer.stored
        elif offer.key in {"subjects", "keywords", "media_url", "language"}:
            data[offer.key] = offer.stored
        else:
            for name in offer.stored:
                person = db.session.scalar(select(Person).where(Person.name == name).limit(1))
                if person is None:
                    person = catalogue.save_person(viewer, {"name": name})
                participants.append({"person_id": person.id, "role": offer.key})
    if len(participants) != len(interview.participants):
        data["participants"] = participants
    catalogue.save_interview(viewer, data, interview)
    return [offer.label for offer in offers]
