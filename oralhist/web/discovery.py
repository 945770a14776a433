"""Discoverability: the sitemap of public pages, schema.org JSON-LD in the interview page's
head, and a ``Link`` header from the interview page to its IIIF manifest.

All three describe what the public may see (the anonymous viewer), whoever asks: a crawler
is anonymous, and a signed-in reader's page must not publish more in its metadata.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request
from lxml import etree
from sqlalchemy import select

from ..access import now, policy
from ..access.clauses import public_interviews_clause, visible_documents_clause
from ..access.policy import ANONYMOUS
from ..extensions import db
from ..interop import iiif, schema_org
from ..models import Collection, Document, Interview, OaiRecord
from ..services import consent, transcript_export
from ..services.public_record import public_record
from ..urls import public_url
from .catalogue import interview_panel

bp = Blueprint("discovery", __name__)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
#: The sitemaps protocol's limit of URLs in one file.
SITEMAP_MAX_URLS = 50_000


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """Public interviews (with the date their public record last changed), public
    documents and the collections, as a sitemaps.org ``urlset``."""
    root = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap={None: SITEMAP_NS})

    def add(loc: str, lastmod: Any = None) -> None:
        url = etree.SubElement(root, f"{{{SITEMAP_NS}}}url")
        etree.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = loc
        if lastmod is not None:
            etree.SubElement(url, f"{{{SITEMAP_NS}}}lastmod").text = lastmod.strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )

    rows = db.session.execute(
        select(Interview.id, OaiRecord.datestamp)
        .outerjoin(OaiRecord, OaiRecord.interview_key == Interview.id)
        .where(public_interviews_clause())
        .order_by(Interview.id)
        .limit(SITEMAP_MAX_URLS)
    ).all()
    for interview_id, stamp in rows:
        add(public_url("catalogue.interview", interview_id=interview_id), stamp)
    room = SITEMAP_MAX_URLS - len(rows)
    for (document_id,) in db.session.execute(
        select(Document.id)
        .where(visible_documents_clause(ANONYMOUS))
        .order_by(Document.id)
        .limit(room)
    ):
        add(public_url("documents.document", document_id=document_id))
        room -= 1
    for (slug,) in db.session.execute(
        select(Collection.slug).order_by(Collection.slug).limit(max(room, 0))
    ):
        add(public_url("catalogue.collection", slug=slug))
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return Response(body, mimetype="application/xml")


@interview_panel
def jsonld_panel(interview: Interview, _viewer) -> dict[str, Any]:
    """The page's schema.org JSON-LD (published interviews only)."""
    if interview.status != "published":
        return {"schema_org": None}
    record = public_record(interview, ANONYMOUS)
    at = now()
    audio = (
        [public_url("recordings.audio", recording_id=r.id) for r in interview.recordings]
        if policy.can_listen(ANONYMOUS, interview, at)
        else []
    )
    text = None
    current = interview.current_transcript
    if record.readable and current is not None:
        text = "\n".join(
            f"{row.speaker}: {row.text}" if row.speaker else row.text
            for row in transcript_export.rows(
                current, limit=2000, redactor=consent.public_redactor(interview, at)
            )
        )
    return {
        "schema_org": schema_org.interview_jsonld(
            record,
            manifest_url=public_url("iiif.manifest", interview_id=interview.id),
            audio_urls=audio,
            transcript_text=text,
            publisher=current_app.config.get("OAI_REPOSITORY_NAME") or "oralhist",
        )
    }


@bp.after_app_request
def _manifest_link(response: Response) -> Response:
    """``Link: <manifest>; rel="alternate"`` on an interview page (RFC 8288), so a IIIF
    client given the page's address finds the manifest."""
    if request.endpoint == "catalogue.interview" and response.status_code == 200:
        interview_id = (request.view_args or {}).get("interview_id")
        if interview_id is not None:
            url = public_url("iiif.manifest", interview_id=interview_id)
            # the media type's own quotes are escaped inside the quoted-string (RFC 9110)
            media_type = f'application/ld+json;profile=\\"{iiif.CONTEXT}\\"'
            response.headers.add("Link", f'<{url}>; rel="alternate"; type="{media_type}"')
    return response
