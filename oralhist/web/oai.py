"""OAI-PMH 2.0 at ``/oai``: the six verbs, ``oai_dc`` and MODS, sets per collection.

What is harvested is what the public may see: the catalogue records of published interviews
(``services/public_record`` for the anonymous viewer), with their index keywords and linked
documents only where the public may read the transcript. An interview that is unpublished or
deleted is reported as deleted, with the datestamp of its withdrawal
(``services/oai_records``: ``deletedRecord`` is ``persistent``).

**Resumption tokens are stateless and signed** (the archive's secret key): each carries the
request's arguments, the last identifier sent (keyset paging, so a record changed during a
harvest is neither skipped nor repeated) and when it was issued. They survive a restart and
any number of web workers, cannot be forged or altered, and expire after
``OAI_TOKEN_LIFETIME_S`` (announced in ``expirationDate``); an expired, altered or foreign
token is ``badResumptionToken``.

Protocol errors are answered as the specification says (section 3.6): HTTP 200 with
``<error code="...">``, and, for ``badVerb`` and ``badArgument``, a ``<request>`` element
carrying the base URL only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from lxml import etree
from sqlalchemy import select

from ..access import now
from ..access.policy import ANONYMOUS
from ..extensions import csrf, db
from ..interop import crosswalks
from ..models import Collection, OaiRecord
from ..services import oai_records
from ..services.public_record import public_record
from ..urls import public_base_url, public_url

bp = Blueprint("oai", __name__)
csrf.exempt(bp)

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"

#: verb -> (required arguments, optional arguments); ``resumptionToken`` is exclusive.
VERBS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "Identify": (frozenset(), frozenset()),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"})),
    "ListSets": (frozenset(), frozenset({"resumptionToken"})),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset()),
    "ListIdentifiers": (
        frozenset({"metadataPrefix"}),
        frozenset({"from", "until", "set", "resumptionToken"}),
    ),
    "ListRecords": (
        frozenset({"metadataPrefix"}),
        frozenset({"from", "until", "set", "resumptionToken"}),
    ),
}

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


class OaiError(Exception):
    """One protocol error (code from the specification's list, message for people)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- identifiers, dates and tokens ---------------------------------------------------------


def repository_identifier() -> str:
    configured = current_app.config.get("OAI_REPOSITORY_IDENTIFIER")
    if configured:
        return str(configured)
    host = re.sub(r"^[a-z]+://", "", public_base_url()).split("/")[0].split(":")[0]
    return host or "localhost"


def oai_identifier(interview_key: int) -> str:
    """``oai:<repository>:interview/<id>``: stable, as the interview's permalink is."""
    return f"oai:{repository_identifier()}:interview/{interview_key}"


def _parse_identifier(identifier: str) -> int | None:
    prefix = f"oai:{repository_identifier()}:interview/"
    if not identifier.startswith(prefix):
        return None
    local = identifier[len(prefix) :]
    if not local.isdigit() or len(local) > 12:
        return None
    return int(local)


def format_datestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_date(name: str, raw: str, *, end: bool) -> tuple[dt.datetime, str]:
    """A ``from``/``until`` value and its granularity (``day`` or ``second``)."""
    try:
        if _SECOND.fullmatch(raw):
            value = dt.datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
            return value, "second"
        if _DAY.fullmatch(raw):
            day = dt.datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=dt.UTC)
            return (day.replace(hour=23, minute=59, second=59) if end else day), "day"
    except ValueError:
        pass
    raise OaiError(
        "badArgument",
        f"The {name} argument {raw!r} is not a UTC date (YYYY-MM-DD) or time "
        "(YYYY-MM-DDThh:mm:ssZ).",
    )


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="oralhist.oai-pmh")


def _token_lifetime() -> dt.timedelta:
    return dt.timedelta(seconds=int(current_app.config.get("OAI_TOKEN_LIFETIME_S", 86400)))


def _make_token(state: dict[str, Any], issued: dt.datetime) -> str:
    return _serializer().dumps({**state, "t": int(issued.timestamp())})


def _read_token(verb: str, token: str) -> dict[str, Any]:
    try:
        state = _serializer().loads(token)
    except BadSignature:
        raise OaiError(
            "badResumptionToken", "The resumption token is not one this repository issued."
        ) from None
    if not isinstance(state, dict) or state.get("verb") != verb:
        raise OaiError("badResumptionToken", f"The resumption token is not for {verb}.")
    issued = dt.datetime.fromtimestamp(int(state.get("t", 0)), dt.UTC)
    if now() > issued + _token_lifetime():
        raise OaiError(
            "badResumptionToken",
            "The resumption token has expired: start the list again without it.",
        )
    return state


# --- the response --------------------------------------------------------------------------


def _oai(tag: str) -> str:
    return f"{{{OAI_NS}}}{tag}"


def _envelope(args: Mapping[str, str], *, echo: bool) -> tuple[etree._Element, etree._Element]:
    root = etree.Element(_oai("OAI-PMH"), nsmap={None: OAI_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", SCHEMA_LOCATION)
    etree.SubElement(root, _oai("responseDate")).text = format_datestamp(now())
    request_element = etree.SubElement(root, _oai("request"))
    request_element.text = base_url()
    if echo:
        for key, value in args.items():
            request_element.set(key, value)
    return root, request_element


def base_url() -> str:
    return public_url("oai.endpoint")


def _respond(root: etree._Element) -> Response:
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    response = Response(body, mimetype="text/xml")
    response.charset = "utf-8"
    return response


def _error_response(args: Mapping[str, str], errors: list[OaiError]) -> Response:
    echo = not any(e.code in ("badVerb", "badArgument") for e in errors)
    root, _request = _envelope(args, echo=echo)
    for error in errors:
        element = etree.SubElement(root, _oai("error"), code=error.code)
        element.text = error.message
    return _respond(root)


@bp.route("/oai", methods=["GET", "POST"])
def endpoint() -> Response:
    """Every OAI-PMH request (GET, or POST as ``application/x-www-form-urlencoded``)."""
    source = request.form if request.method == "POST" else request.args
    args = {key: source.getlist(key) for key in source}
    flat = {key: values[0] for key, values in args.items()}
    verb_values = args.get("verb", [])
    if len(verb_values) != 1 or verb_values[0] not in VERBS:
        reason = (
            "The verb argument is missing."
            if not verb_values
            else "The verb argument is repeated."
            if len(verb_values) > 1
            else f"{verb_values[0]!r} is not an OAI-PMH verb."
        )
        return _error_response(flat, [OaiError("badVerb", reason)])
    verb = verb_values[0]
    try:
        _check_arguments(verb, args)
        root, _request = _envelope(flat, echo=True)
        root.append(HANDLERS[verb](flat))
    except OaiError as error:
        return _error_response(flat, [error])
    return _respond(root)


def _check_arguments(verb: str, args: Mapping[str, list[str]]) -> None:
    required, optional = VERBS[verb]
    given = set(args) - {"verb"}
    repeated = sorted(k for k, v in args.items() if len(v) > 1)
    if repeated:
        raise OaiError("badArgument", f"Repeated argument: {', '.join(repeated)}.")
    unknown = sorted(given - required - optional)
    if unknown:
        raise OaiError("badArgument", f"Illegal argument for {verb}: {', '.join(unknown)}.")
    if "resumptionToken" in given:
        if given != {"resumptionToken"}:
            raise OaiError(
                "badArgument", "resumptionToken is an exclusive argument: send it alone."
            )
        return
    missing = sorted(required - given)
    if missing:
        raise OaiError("badArgument", f"Missing argument for {verb}: {', '.join(missing)}.")


# --- the verbs -----------------------------------------------------------------------------


def _identify(_args: Mapping[str, str]) -> etree._Element:
    config = current_app.config
    element = etree.Element(_oai("Identify"))
    earliest = oai_records.earliest_datestamp() or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    email = config.get("OAI_ADMIN_EMAIL") or config.get("MAIL_FROM") or ""
    if "@" not in email or "." not in email.split("@")[-1]:
        email = f"archivist@{repository_identifier()}"
        if "." not in repository_identifier():
            email += ".invalid"
    for tag, text in (
        ("repositoryName", config.get("OAI_REPOSITORY_NAME") or "oralhist"),
        ("baseURL", base_url()),
        ("protocolVersion", "2.0"),
        ("adminEmail", email),
        ("earliestDatestamp", format_datestamp(earliest)),
        ("deletedRecord", "persistent"),
        ("granularity", GRANULARITY),
    ):
        etree.SubElement(element, _oai(tag)).text = text
    return element


def _list_metadata_formats(args: Mapping[str, str]) -> etree._Element:
    if "identifier" in args:
        _record_for(args["identifier"])
    element = etree.Element(_oai("ListMetadataFormats"))
    for prefix, (schema, namespace) in crosswalks.FORMATS.items():
        item = etree.SubElement(element, _oai("metadataFormat"))
        etree.SubElement(item, _oai("metadataPrefix")).text = prefix
        etree.SubElement(item, _oai("schema")).text = schema
        etree.SubElement(item, _oai("metadataNamespace")).text = namespace
    return element


def _list_sets(args: Mapping[str, str]) -> etree._Element:
    if "resumptionToken" in args:
        _read_token("ListSets", args["resumptionToken"])  # never issued: always refused
    collections = db.session.scalars(select(Collection).order_by(Collection.slug)).all()
    if not collections:
        raise OaiError("noSetHierarchy", "This repository has no collections yet.")
    element = etree.Element(_oai("ListSets"))
    for collection in collections:
        item = etree.SubElement(element, _oai("set"))
        etree.SubElement(item, _oai("setSpec")).text = collection.slug
        etree.SubElement(item, _oai("setName")).text = collection.title
    return element


def _record_for(identifier: str) -> OaiRecord:
    key = _parse_identifier(identifier)
    found = oai_records.record(key) if key is not None else None
    if found is None:
        raise OaiError("idDoesNotExist", f"No record has the identifier {identifier!r}.")
    return found


def _check_prefix(prefix: str) -> None:
    if prefix not in crosswalks.FORMATS:
        raise OaiError(
            "cannotDisseminateFormat",
            f"{prefix!r} is not a metadata format of this repository "
            f"(choose {', '.join(crosswalks.FORMATS)}).",
        )


def _get_record(args: Mapping[str, str]) -> etree._Element:
    _check_prefix(args["metadataPrefix"])
    found = _record_for(args["identifier"])
    element = etree.Element(_oai("GetRecord"))
    interviews = oai_records.published_interviews([found.interview_key])
    element.append(_record(found, interviews.get(found.interview_key), args["metadataPrefix"]))
    return element


def _header(row: OaiRecord, *, deleted: bool) -> etree._Element:
    header = etree.Element(_oai("header"))
    if deleted:
        header.set("status", "deleted")
    etree.SubElement(header, _oai("identifier")).text = oai_identifier(row.interview_key)
    etree.SubElement(header, _oai("datestamp")).text = format_datestamp(row.datestamp)
    if row.set_spec:
        etree.SubElement(header, _oai("setSpec")).text = row.set_spec
    return header


def _record(row: OaiRecord, interview, prefix: str) -> etree._Element:
    deleted = row.deleted or interview is None
    record = etree.Element(_oai("record"))
    record.append(_header(row, deleted=deleted))
    if not deleted:
        metadata = etree.SubElement(record, _oai("metadata"))
        publisher = current_app.config.get("OAI_REPOSITORY_NAME") or "oralhist"
        metadata.append(
            crosswalks.metadata(
                prefix,
                public_record(interview, ANONYMOUS),
                publisher,
                oai_identifier=oai_identifier(row.interview_key),
                datestamp=row.datestamp,
            )
        )
    return record


def _list(verb: str, args: Mapping[str, str]) -> etree._Element:
    issued = now()
    if "resumptionToken" in args:
        state = _read_token(verb, args["resumptionToken"])
    else:
        _check_prefix(args["metadataPrefix"])
        since = until = None
        granularities = set()
        if "from" in args:
            since, g = _parse_date("from", args["from"], end=False)
            granularities.add(g)
        if "until" in args:
            until, g = _parse_date("until", args["until"], end=True)
            granularities.add(g)
        if len(granularities) > 1:
            raise OaiError("badArgument", "from and until must have the same granularity.")
        if since is not None and until is not None and since > until:
            raise OaiError("badArgument", "from is later than until.")
        state = {
            "verb": verb,
            "prefix": args["metadataPrefix"],
            "set": args.get("set"),
            "from": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "after": 0,
            "cursor": 0,
        }
    window = oai_records.Window(
        set_spec=state["set"],
        since=dt.datetime.fromisoformat(state["from"]) if state["from"] else None,
        until=dt.datetime.fromisoformat(state["until"]) if state["until"] else None,
    )
    size = int(current_app.config.get("OAI_PAGE_SIZE", 100))
    rows = oai_records.page(window, int(state["after"]), size + 1)
    if not rows:
        if "resumptionToken" in args:
            raise OaiError(
                "badResumptionToken", "The resumption token points past the end of the list."
            )
        raise OaiError("noRecordsMatch", "No record matches these arguments.")
    more = len(rows) > size
    rows = rows[:size]
    element = etree.Element(_oai(verb))
    if verb == "ListIdentifiers":
        for row in rows:
            element.append(_header(row, deleted=row.deleted))
    else:
        interviews = oai_records.published_interviews(r.interview_key for r in rows)
        for row in rows:
            element.append(_record(row, interviews.get(row.interview_key), state["prefix"]))
    cursor = int(state["cursor"])
    if more or cursor:
        token = etree.SubElement(
            element,
            _oai("resumptionToken"),
            completeListSize=str(oai_records.count(window)),
            cursor=str(cursor),
        )
        if more:
            following = {**state, "after": rows[-1].interview_key, "cursor": cursor + len(rows)}
            token.text = _make_token(following, issued)
            token.set("expirationDate", format_datestamp(issued + _token_lifetime()))
    return element


HANDLERS = {
    "Identify": _identify,
    "ListMetadataFormats": _list_metadata_formats,
    "ListSets": _list_sets,
    "GetRecord": _get_record,
    "ListIdentifiers": lambda args: _list("ListIdentifiers", args),
    "ListRecords": lambda args: _list("ListRecords", args),
}
