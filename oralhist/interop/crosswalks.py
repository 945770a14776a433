"""An interview's public record in the metadata formats harvesters take: simple Dublin Core
(``oai_dc``, required by OAI-PMH) and MODS 3.7 (``mods``).

Why MODS as the richer format: library systems harvest it (Islandora, Hyrax/Samvera, DPLA
hubs, Primo and Alma through their OAI loaders), and it says what simple Dublin Core cannot:
who is the narrator and who the interviewer (MARC relator codes ``ive``/``ivr``), the genre
(oral history), the extent (the running time), the collection as a host item, linked
documents as related items, and access conditions of two kinds (use and reproduction;
restriction on access). Qualified Dublin Core has no one XML schema harvesters agree on.

Pure functions of a ``PublicRecord``: no Flask, no database.
"""

from __future__ import annotations

import datetime as dt

from lxml import etree

from ..services.public_record import PublicRecord

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
MODS_NS = "http://www.loc.gov/mods/v3"
XLINK_NS = "http://www.w3.org/1999/xlink"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

#: metadataPrefix -> (schema, namespace): what ListMetadataFormats announces.
FORMATS: dict[str, tuple[str, str]] = {
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC_NS),
    "mods": ("http://www.loc.gov/standards/mods/v3/mods-3-7.xsd", MODS_NS),
}

#: MARC relator terms and codes of the catalogue's participant roles.
RELATORS = {"interviewee": ("Interviewee", "ive"), "interviewer": ("Interviewer", "ivr")}


def duration_iso(ms: int) -> str:
    """``PT1H2M3S``: an ISO 8601 duration (schema.org and MODS extents use it)."""
    seconds = max(ms, 0) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return text + (f"{secs}S" if secs or text == "PT" else "")


def oai_dc(record: PublicRecord, publisher: str) -> etree._Element:
    """The record as ``oai_dc:dc``."""
    root = etree.Element(
        f"{{{OAI_DC_NS}}}dc",
        nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS},
    )
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} {FORMATS['oai_dc'][0]}")

    def add(name: str, value: str) -> None:
        if value:
            etree.SubElement(root, f"{{{DC_NS}}}{name}").text = value

    add("title", record.title)
    for name in record.names("interviewee"):
        add("creator", name)
    for role in ("interviewer", "other"):
        for name in record.names(role):
            add("contributor", name)
    for subject in (*record.keywords, *record.subjects):
        add("subject", subject)
    add("description", record.summary)
    add("publisher", publisher)
    add("date", record.date_recorded)
    add("type", "Sound")
    add("format", duration_iso(record.duration_ms) if record.duration_ms else "")
    add("identifier", record.permalink)
    add("identifier", record.accession)
    add("language", record.language)
    for document in record.documents:
        add("relation", document.url)
    add("coverage", record.place)
    add("rights", record.rights)
    add("rights", record.usage)
    add("rights", record.access_statement)
    return root


def mods(record: PublicRecord, publisher: str, *, oai_identifier: str, datestamp: dt.datetime):
    """The record as a MODS 3.7 ``mods`` element."""
    m = f"{{{MODS_NS}}}"
    root = etree.Element(f"{m}mods", nsmap={"mods": MODS_NS, "xlink": XLINK_NS, "xsi": XSI_NS})
    root.set("version", "3.7")
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{MODS_NS} {FORMATS['mods'][0]}")

    def sub(parent, name: str, text: str | None = None, **attrs: str):
        element = etree.SubElement(parent, f"{m}{name}", {k: v for k, v in attrs.items() if v})
        if text is not None:
            element.text = text
        return element

    title_info = sub(root, "titleInfo")
    sub(title_info, "title", record.title)
    for role, name in record.people:
        element = sub(root, "name", type="personal")
        sub(element, "namePart", name)
        if role in RELATORS:
            term, code = RELATORS[role]
            role_element = sub(element, "role")
            sub(role_element, "roleTerm", term, type="text", authority="marcrelator")
            sub(role_element, "roleTerm", code, type="code", authority="marcrelator")
    sub(root, "typeOfResource", "sound recording-nonmusical")
    sub(root, "genre", "oral histories", authority="aat")
    origin = sub(root, "originInfo")
    if record.place:
        place = sub(origin, "place")
        sub(place, "placeTerm", record.place, type="text")
    sub(origin, "publisher", publisher)
    if record.date_recorded:
        sub(origin, "dateCreated", record.date_recorded, encoding="w3cdtf", keyDate="yes")
    if record.language:
        language = sub(root, "language")
        sub(language, "languageTerm", record.language, type="code", authority="rfc5646")
    if record.duration_ms:
        physical = sub(root, "physicalDescription")
        sub(physical, "extent", duration_iso(record.duration_ms), unit="ISO 8601 duration")
    if record.summary:
        sub(root, "abstract", record.summary)
    for keyword in record.keywords:
        sub(sub(root, "subject"), "topic", keyword)
    for subject in record.subjects:
        sub(sub(root, "subject"), "topic", subject)
    if record.collection_title:
        host = sub(root, "relatedItem", type="host")
        sub(sub(host, "titleInfo"), "title", record.collection_title)
    for document in record.documents:
        related = sub(root, "relatedItem", type="references")
        related.set(f"{{{XLINK_NS}}}href", document.url)
        sub(sub(related, "titleInfo"), "title", document.title)
        sub(sub(related, "location"), "url", document.url)
    sub(root, "identifier", record.accession, type="local")
    sub(root, "identifier", record.permalink, type="uri")
    location = sub(root, "location")
    sub(location, "url", record.permalink, usage="primary display", access="object in context")
    if record.rights:
        sub(root, "accessCondition", record.rights, type="use and reproduction")
    if record.usage:
        sub(root, "accessCondition", record.usage, type="use and reproduction")
    if record.funding:
        sub(root, "note", record.funding, type="funding")
    sub(root, "accessCondition", record.access_statement, type="restriction on access")
    info = sub(root, "recordInfo")
    sub(info, "recordContentSource", publisher)
    sub(info, "recordChangeDate", datestamp.strftime("%Y-%m-%dT%H:%M:%SZ"), encoding="iso8601")
    sub(info, "recordIdentifier", oai_identifier)
    return root


def metadata(prefix: str, record: PublicRecord, publisher: str, **context) -> etree._Element:
    if prefix == "oai_dc":
        return oai_dc(record, publisher)
    return mods(record, publisher, **context)
