"""IIIF Presentation 3: a manifest per interview, a collection per collection, and the
per-part WebVTT transcripts they point to. Any IIIF AV viewer (Universal Viewer, Clover,
Mirador, Aviary, Ramp) can play an interview with its transcript and index.

What a manifest holds follows the viewer's access, as the interview page does
(``services/public_record``, ``oralhist/access``): the catalogue record always (metadata,
``requiredStatement`` with the access sentence and rights, ``homepage``, ``seeAlso`` to the
OAI-PMH records, one Canvas per part with its ``duration``); the audio as a painting
annotation only for those who may listen (it points to ``/recordings/<id>/audio``, which asks
the same policy again); the transcript (WebVTT with speakers, a ``supplementing``
annotation) and the index (``structures``: Ranges with titles and synopses) only for those
who may read the transcript. Passage links to documents the viewer may see are ``linking``
annotations on their time range. Everything answers with
``Access-Control-Allow-Origin: *`` (and OPTIONS preflights) so viewers on other sites can
load it.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from flask import Blueprint, Response, request
from sqlalchemy import select

from ..access import current_viewer, now, policy, require
from ..access.clauses import visible_interviews_clause
from ..errors import NotFound, ValidationError
from ..extensions import db
from ..interop import iiif
from ..interop.crosswalks import MODS_NS, OAI_DC_NS
from ..models import Collection, Interview
from ..services import audit, catalogue, consent, transcript_export
from ..services import passages as passage_service
from ..services.public_record import public_record
from ..transcripts import Segment, write_transcript
from ..urls import public_url
from .oai import oai_identifier

bp = Blueprint("iiif", __name__, url_prefix="/iiif")

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Range",
    "Access-Control-Max-Age": "86400",
}


@bp.after_request
def _cors(response: Response) -> Response:
    """Viewers load manifests from other origins; the answer depends on who asks."""
    for key, value in CORS_HEADERS.items():
        response.headers[key] = value
    response.vary.update(("Cookie", "Authorization"))
    return response


@bp.after_app_request
def _cors_for_audio(response: Response) -> Response:
    """The audio a manifest paints may be played by a viewer on another site (Clover sets
    ``crossorigin="anonymous"``). A cross-origin request with ``*`` never carries cookies,
    so this opens nothing: the audio route's own policy still decides who gets the bytes."""
    if request.endpoint == "recordings.audio":
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = (
            "Accept-Ranges, Content-Length, Content-Range"
        )
    return response


def _json(data: dict[str, Any]) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), mimetype="application/ld+json")


def manifest_url(interview_id: int) -> str:
    return public_url("iiif.manifest", interview_id=interview_id)


@bp.get("/interviews/<int:interview_id>/manifest")
def manifest(interview_id: int) -> Response:
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    return _json(build_manifest(interview, viewer))


def build_manifest(interview: Interview, viewer) -> dict[str, Any]:
    """The interview's Presentation 3 manifest as ``viewer`` may see it."""
    record = public_record(interview, viewer)
    lang = record.language or "none"
    base = manifest_url(interview.id)
    parts = iiif.timeline([r.duration_ms for r in interview.recordings])
    current = interview.current_transcript
    timed = current is not None and transcript_export.is_timed(current)
    canvases = []
    for recording, part in zip(interview.recordings, parts, strict=True):
        canvas_id = f"{base}/canvas/{part.position + 1}"
        canvas: dict[str, Any] = {
            "id": canvas_id,
            "type": "Canvas",
            "label": {"en": [f"Part {part.position + 1}"]},
            "duration": max(iiif.seconds(part.duration_ms), 0.001),
        }
        if record.listenable:
            canvas["items"] = [
                {
                    "id": f"{canvas_id}/page",
                    "type": "AnnotationPage",
                    "items": [
                        {
                            "id": f"{canvas_id}/page/audio",
                            "type": "Annotation",
                            "motivation": "painting",
                            "body": {
                                "id": public_url("recordings.audio", recording_id=recording.id),
                                "type": "Sound",
                                "format": recording.mime,
                                "duration": max(iiif.seconds(part.duration_ms), 0.001),
                            },
                            "target": canvas_id,
                        }
                    ],
                }
            ]
        pages = []
        if record.readable and timed:
            pages.append(
                {
                    "id": f"{canvas_id}/transcript",
                    "type": "AnnotationPage",
                    "items": [
                        {
                            "id": f"{canvas_id}/transcript/vtt",
                            "type": "Annotation",
                            "motivation": "supplementing",
                            "body": {
                                "id": public_url(
                                    "iiif.transcript",
                                    interview_id=interview.id,
                                    part=part.position + 1,
                                ),
                                "type": "Text",
                                "format": "text/vtt",
                                "label": {"en": ["Transcript"]},
                                "language": record.language or "en",
                            },
                            "target": canvas_id,
                        }
                    ],
                }
            )
        canvases.append((canvas, pages, part))
    _add_passages(interview, viewer, canvases)
    for canvas, pages, _part in canvases:
        if pages:
            canvas["annotations"] = pages
    data: dict[str, Any] = {
        "@context": iiif.CONTEXT,
        "id": base,
        "type": "Manifest",
        "label": iiif.language_map(record.title, lang),
        "metadata": _metadata(record, lang),
        "requiredStatement": {
            "label": {"en": ["Access and rights"]},
            "value": {"en": [" ".join(filter(None, (record.access_statement, record.rights)))]},
        },
        "homepage": [
            {
                "id": record.permalink,
                "type": "Text",
                "label": iiif.language_map(record.title, lang),
                "format": "text/html",
            }
        ],
        "seeAlso": [
            {
                "id": public_url(
                    "oai.endpoint",
                    verb="GetRecord",
                    metadataPrefix=prefix,
                    identifier=oai_identifier(interview.id),
                ),
                "type": "Dataset",
                "format": "text/xml",
                "profile": profile,
                "label": {"en": [label]},
            }
            for prefix, profile, label in (
                ("mods", MODS_NS, "MODS record (OAI-PMH)"),
                ("oai_dc", OAI_DC_NS, "Dublin Core record (OAI-PMH)"),
            )
        ],
        "items": [canvas for canvas, _pages, _part in canvases],
    }
    if record.summary:
        data["summary"] = iiif.language_map(record.summary, lang)
    rights = iiif.rights_uri(record.rights)
    if rights:
        data["rights"] = rights
    if record.collection_slug:
        data["partOf"] = [
            {
                "id": public_url("iiif.collection", slug=record.collection_slug),
                "type": "Collection",
            }
        ]
    if record.readable and parts:
        structures = _structures(interview, base, parts, consent.redactor_for(viewer, interview))
        if structures:
            data["structures"] = structures
    return data


def _metadata(record, lang: str) -> list[dict[str, Any]]:
    rows = [("Accession", [record.accession])]
    for role, label in (
        ("interviewee", "Interviewee"),
        ("interviewer", "Interviewer"),
        ("other", "Also present"),
    ):
        names = record.names(role)
        if names:
            rows.append((label, names))
    for label, value in (
        ("Date recorded", record.date_recorded),
        ("Place", record.place),
        ("Language", record.language),
        ("Collection", record.collection_title or ""),
    ):
        if value:
            rows.append((label, [value]))
    return [{"label": {"en": [label]}, "value": {"none": values}} for label, values in rows]


def _structures(
    interview: Interview, base: str, parts, redactor: consent.Redactor
) -> list[dict[str, Any]]:
    """The index as Ranges: each point runs to the next one (the last to the end); titles
    and synopses as ``redactor``'s reader sees them (anonymised names as labels)."""
    transcript = interview.current_transcript
    points = sorted(transcript.index_points, key=lambda p: p.start_ms) if transcript else []
    if not points:
        return []
    end = parts[-1].end_ms
    ranges = []
    for n, point in enumerate(points):
        stop = points[n + 1].start_ms if n + 1 < len(points) else end
        items = [
            {"id": iiif.fragment(f"{base}/canvas/{part.position + 1}", lo, hi), "type": "Canvas"}
            for part, lo, hi in iiif.spans(parts, point.start_ms, max(stop, point.start_ms + 1))
        ]
        if not items:
            continue
        entry: dict[str, Any] = {
            "id": f"{base}/range/{n + 1}",
            "type": "Range",
            "label": {"en": [redactor.anonymise(point.title) or f"Index point {n + 1}"]},
            "items": items,
        }
        if point.synopsis:
            entry["summary"] = {"en": [redactor.anonymise(point.synopsis) or ""]}
        ranges.append(entry)
    return [
        {
            "id": f"{base}/range/index",
            "type": "Range",
            "label": {"en": ["Index"]},
            "items": ranges,
        }
    ]


def _add_passages(interview: Interview, viewer, canvases) -> None:
    """Passage links as ``linking`` annotations on the Canvas time they cover."""
    items_by_part: dict[int, list[dict[str, Any]]] = {}
    parts = [part for _c, _a, part in canvases]
    for passage in passage_service.passages_for_interview(viewer, interview):
        for part, lo, hi in iiif.spans(parts, passage.start_ms, passage.end_ms):
            canvas_id = canvases[part.position][0]["id"]
            body: dict[str, Any] = {
                "id": public_url("documents.document", document_id=passage.document.id),
                "type": "Text",
                "format": "text/html",
                "label": {"en": [passage.document.title]},
            }
            annotation = {
                "id": f"{canvas_id}/passages/{passage.mention.id}",
                "type": "Annotation",
                "motivation": "linking",
                "label": {"en": [passage.document.title]},
                "body": body,
                "target": iiif.fragment(canvas_id, lo, hi),
            }
            if passage.note:  # the note only for those who may read the interview
                annotation["summary"] = {"en": [passage.note]}
            items_by_part.setdefault(part.position, []).append(annotation)
    for canvas, pages, part in canvases:
        if part.position in items_by_part:
            pages.append(
                {
                    "id": f"{canvas['id']}/passages",
                    "type": "AnnotationPage",
                    "items": items_by_part[part.position],
                }
            )


@bp.get("/interviews/<int:interview_id>/transcript/<int:part>.vtt")
def transcript(interview_id: int, part: int) -> Response:
    """Part ``part``'s stretch of the current transcript as WebVTT (times in the part),
    with speakers as voice spans: for those who may read the transcript."""
    viewer = current_viewer()
    interview = catalogue.get_interview(interview_id, viewer)
    require(
        policy.can_download_transcript(viewer, interview, now()),
        "You do not have access to this transcript.",
    )
    parts = iiif.timeline([r.duration_ms for r in interview.recordings])
    if not 1 <= part <= max(len(parts), 1):
        raise NotFound(f"Interview {interview_id} has no part {part}.")
    found = transcript_export.readable_transcript(viewer, interview)
    segments, _points = transcript_export.to_parsing(found, consent.redactor_for(viewer, interview))
    if any(s.start_ms is None for s in segments):
        raise ValidationError("This transcript has no time codes, so it has no WebVTT form.")
    if parts:
        window = parts[part - 1]
        last = part == len(parts)
        segments = [
            _shifted(s, -window.offset_ms)
            for s in segments
            if window.offset_ms <= s.start_ms < window.end_ms
            or (last and s.start_ms >= window.end_ms)
        ]
    content = write_transcript(segments, "vtt")
    audit.record(viewer, "transcript.download", "interview", interview.id, format="vtt")
    return Response(content, mimetype="text/vtt")


def _shifted(segment: Segment, delta: int) -> Segment:
    """``segment`` moved by ``delta`` ms (into its part's time)."""

    def move(ms: int | None) -> int | None:
        return None if ms is None else max(ms + delta, 0)

    words = tuple(
        dataclasses.replace(w, start_ms=move(w.start_ms), end_ms=move(w.end_ms))
        for w in segment.words
    )
    return dataclasses.replace(
        segment, start_ms=move(segment.start_ms), end_ms=move(segment.end_ms), words=words
    )


@bp.get("/collections/<slug>")
def collection(slug: str) -> Response:
    """A collection's interviews (those the viewer may see) as a IIIF Collection."""
    viewer = current_viewer()
    found = db.session.scalar(select(Collection).where(Collection.slug == slug))
    if found is None:
        raise NotFound(f"There is no collection {slug!r}.")
    interviews = db.session.scalars(
        select(Interview)
        .where(Interview.collection_id == found.id, visible_interviews_clause(viewer))
        .order_by(Interview.accession)
    ).all()
    data = {
        "@context": iiif.CONTEXT,
        "id": public_url("iiif.collection", slug=slug),
        "type": "Collection",
        "label": {"en": [found.title]},
        "homepage": [
            {
                "id": public_url("catalogue.collection", slug=slug),
                "type": "Text",
                "label": {"en": [found.title]},
                "format": "text/html",
            }
        ],
        "items": [
            {"id": manifest_url(i.id), "type": "Manifest", "label": {"en": [i.title]}}
            for i in consent.shown_interviews(viewer, interviews)
        ],
    }
    if found.description:
        data["summary"] = {"en": [found.description]}
    return _json(data)


@bp.get("/collections")
def collections() -> Response:
    """Every collection, as the archive's top IIIF Collection."""
    found = db.session.scalars(select(Collection).order_by(Collection.slug)).all()
    return _json(
        {
            "@context": iiif.CONTEXT,
            "id": public_url("iiif.collections"),
            "type": "Collection",
            "label": {"en": ["Collections"]},
            "items": [
                {
                    "id": public_url("iiif.collection", slug=c.slug),
                    "type": "Collection",
                    "label": {"en": [c.title]},
                }
                for c in found
            ],
        }
    )
