"""schema.org JSON-LD for an interview's public page: what search engines and dataset
crawlers read (Google's and Bing's rich results, the Internet Archive's crawlers).

Built from the *public* record (``services/public_record`` for the anonymous viewer),
whoever is looking at the page: the metadata in the page's head never says more than the
public may know. The transcript text is included only when the public may read it, cut at
``TRANSCRIPT_CHARS`` so the page stays bounded for a six-hour interview.
"""

from __future__ import annotations

from typing import Any

from ..services.public_record import PublicRecord
from .crosswalks import duration_iso
from .iiif import rights_uri

#: The most transcript characters the JSON-LD carries (the whole text is one link away).
TRANSCRIPT_CHARS = 100_000


def interview_jsonld(
    record: PublicRecord,
    *,
    manifest_url: str,
    audio_urls: list[str],
    transcript_text: str | None,
    publisher: str,
) -> dict[str, Any]:
    """An ``AudioObject`` (a kind of ``CreativeWork``) describing the interview."""

    def people(role: str) -> list[dict[str, str]]:
        return [{"@type": "Person", "name": name} for name in record.names(role)]

    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "AudioObject",
        "@id": record.permalink,
        "url": record.permalink,
        "name": record.title,
        "identifier": record.accession,
        "genre": "Oral history",
        "publisher": {"@type": "Organization", "name": publisher},
        "conditionsOfAccess": record.access_statement,
        "isAccessibleForFree": True,
        "subjectOf": {
            "@type": "CreativeWork",
            "url": manifest_url,
            "encodingFormat": "application/ld+json",
            "name": "IIIF Presentation 3 manifest",
        },
    }
    optional = {
        "description": record.summary,
        "dateCreated": record.date_recorded,
        "inLanguage": record.language,
        "duration": duration_iso(record.duration_ms) if record.duration_ms else "",
        "copyrightNotice": record.rights,
        "license": rights_uri(record.rights) or "",
        "keywords": ", ".join([*record.keywords, *record.subjects]),
    }
    data.update({key: value for key, value in optional.items() if value})
    if record.place:
        data["contentLocation"] = {"@type": "Place", "name": record.place}
    for key, role in (("creator", "interviewee"), ("contributor", "interviewer")):
        if record.names(role):
            data[key] = people(role)
    others = people("other")
    if others:
        data.setdefault("contributor", []).extend(others)
    if record.collection_title:
        data["isPartOf"] = {"@type": "Collection", "name": record.collection_title}
    if audio_urls:
        data["contentUrl"] = audio_urls[0]
        if len(audio_urls) > 1:
            data["hasPart"] = [
                {"@type": "AudioObject", "contentUrl": url, "position": n + 1}
                for n, url in enumerate(audio_urls)
            ]
    if record.documents:
        data["citation"] = [
            {"@type": "CreativeWork", "name": d.title, "url": d.url} for d in record.documents
        ]
    if transcript_text:
        data["transcript"] = transcript_text[:TRANSCRIPT_CHARS]
    return data
