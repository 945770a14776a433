"""Catalogue use cases: collections, people, interviews and their participants."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, or_, select, update

from ..access import now, policy, require
from ..access.policy import Viewer
from ..errors import Conflict, NotFound, ValidationError
from ..extensions import db
from ..models import Collection, Interview, Participant, Person
from ..models.types import ACCESS_LEVELS, PARTICIPANT_ROLES, utcnow
from .fields import SLUG, Fields

SORTS = {
    "title": (Interview.title.asc(), Interview.id.asc()),
    "-title": (Interview.title.desc(), Interview.id.desc()),
    "date": (Interview.date_recorded.asc(), Interview.id.asc()),
    "-date": (Interview.date_recorded.desc(), Interview.id.desc()),
    "added": (Interview.created_at.asc(), Interview.id.asc()),
    "-added": (Interview.created_at.desc(), Interview.id.desc()),
}


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80] or "collection"


# --- collections ---------------------------------------------------------------------------


def get_collection(ident: int | str) -> Collection:
    if isinstance(ident, int) or str(ident).isdigit():
        found = db.session.get(Collection, int(ident))
    else:
        found = db.session.scalar(select(Collection).where(Collection.slug == ident))
    if found is None:
        raise NotFound(f"There is no collection {ident}.")
    return found


def save_collection(
    viewer: Viewer, data: Mapping[str, Any], collection: Collection | None = None
) -> Collection:
    require(policy.can_edit_catalogue(viewer), "Only contributors and archivists edit collections.")
    fields = Fields(data, partial=collection is not None)
    fields.string("title", required=collection is None or fields.present("title"))
    fields.string("slug", max_length=80)
    fields.string("description", max_length=20000)
    values = fields.check()
    slug = values.get("slug") or (slugify(values["title"]) if collection is None else None)
    if slug is not None:
        if not SLUG.match(slug):
            raise ValidationError(
                "slug may hold only lower-case letters, digits and hyphens.",
                fields={"slug": "lower-case letters, digits and hyphens only"},
            )
        clash = db.session.scalar(select(Collection).where(Collection.slug == slug))
        if clash is not None and clash is not collection:
            raise Conflict(f"A collection with the slug '{slug}' exists already.", field="slug")
        values["slug"] = slug
    if collection is None:
        collection = Collection()
        db.session.add(collection)
    for key, value in values.items():
        setattr(collection, key, value)
    db.session.flush()
    return collection


# --- people --------------------------------------------------------------------------------


def get_person(person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None:
        raise NotFound(f"There is no person {person_id}.")
    return person


def default_sort_name(name: str) -> str:
    parts = name.split()
    return f"{parts[-1]}, {' '.join(parts[:-1])}" if len(parts) > 1 else name


def save_person(viewer: Viewer, data: Mapping[str, Any], person: Person | None = None) -> Person:
    require(policy.can_edit_catalogue(viewer), "Only contributors and archivists edit people.")
    fields = Fields(data, partial=person is not None)
    fields.string("name", required=person is None or fields.present("name"))
    fields.string("sort_name")
    fields.string("dates", max_length=80)
    fields.string("biography", max_length=50000)
    values = fields.check()
    if person is None:
        person = Person()
        db.session.add(person)
    for key, value in values.items():
        setattr(person, key, value)
    if not person.sort_name:
        person.sort_name = default_sort_name(person.name)
    db.session.flush()
    return person


def merge_people(viewer: Viewer, keep: Person, duplicate: Person) -> Person:
    """Fold ``duplicate`` into ``keep``: every participation, speaker link and document
    credit moves over, then the duplicate is deleted."""
    from ..models import DocumentCreator, Speaker

    require(policy.can_merge_people(viewer), "Only archivists merge people.")
    if keep.id == duplicate.id:
        raise ValidationError("Choose two different people to merge.")
    for participation in list(duplicate.participations):
        exists = db.session.scalar(
            select(Participant).where(
                Participant.interview_id == participation.interview_id,
                Participant.person_id == keep.id,
                Participant.role == participation.role,
            )
        )
        if exists:
            db.session.delete(participation)
        else:
            participation.person_id = keep.id
    db.session.execute(
        update(Speaker).where(Speaker.person_id == duplicate.id).values(person_id=keep.id)
    )
    for credit in db.session.scalars(
        select(DocumentCreator).where(DocumentCreator.person_id == duplicate.id)
    ):
        clash = db.session.scalar(
            select(DocumentCreator).where(
                DocumentCreator.document_id == credit.document_id,
                DocumentCreator.person_id == keep.id,
            )
        )
        if clash:
            db.session.delete(credit)
        else:
            credit.person_id = keep.id
    for attr in ("dates", "biography"):
        if not getattr(keep, attr) and getattr(duplicate, attr):
            setattr(keep, attr, getattr(duplicate, attr))
    db.session.flush()
    db.session.expire(duplicate)
    db.session.delete(duplicate)
    db.session.flush()
    return keep


#: How many people the merge form of a person's page offers at once.
MERGE_CANDIDATES = 50


def merge_candidates(person: Person, q: str = "") -> list[Person]:
    """Who might be a duplicate of ``person``: those whose name contains ``q`` when given,
    else those sharing a word of three letters or more with its name (at most
    ``MERGE_CANDIDATES``, by sort name). Never every person: archives hold thousands."""
    words = [q] if q else [w for w in re.findall(r"\w+", person.name) if len(w) >= 3][:8]
    if not words:
        return []
    stmt = list_people().where(Person.id != person.id, _name_contains(*words))
    return list(db.session.scalars(stmt.limit(MERGE_CANDIDATES)))


def list_people(q: str = "") -> Any:
    """People by sort name; with ``q``, those whose name contains it (any case)."""
    stmt = select(Person).order_by(func.lower(Person.sort_name), Person.id)
    return stmt.where(_name_contains(q)) if q else stmt


def _name_contains(*words: str) -> Any:
    """A person's name contains any of ``words`` (case-folded; ``%`` and ``_`` literal)."""
    name = func.lower(Person.name)
    return or_(*(name.like(f"%{_escape_like(w.lower())}%", escape="\\") for w in words))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- interviews ----------------------------------------------------------------------------


def get_interview(interview_id: int, viewer: Viewer) -> Interview:
    """The interview, if this viewer may see its record; a draft is 'not found' to others."""
    interview = db.session.get(Interview, interview_id)
    if interview is None or not policy.can_view_record(viewer, interview):
        raise NotFound(f"There is no interview {interview_id}.")
    return interview


def interview_query(viewer: Viewer, args: Mapping[str, Any]):
    """The filtered, sorted select behind the interview list (page and API alike).

    Filters: ``collection`` (id or slug), ``person`` (id), ``year_from``/``year_to``,
    ``access_level``, ``status``, ``q`` (title contains). Sort: ``sort`` one of SORTS.
    Drafts appear only to their creator and archivists.
    """
    fields = Fields(args)
    fields.integer("person", minimum=1)
    fields.integer("year_from", minimum=0)
    fields.integer("year_to", minimum=0)
    fields.choice("access_level", ACCESS_LEVELS, default="")
    fields.choice("status", ("draft", "published"), default="")
    fields.choice("sort", SORTS, default="title")
    fields.string("collection", max_length=80)
    fields.string("q", max_length=200)
    values = fields.check()
    stmt = select(Interview)
    if not viewer.is_archivist:
        visible = Interview.status == "published"
        if viewer.signed_in:
            visible = or_(visible, Interview.created_by_id == viewer.user_id)
        stmt = stmt.where(visible)
    if values.get("collection"):
        collection = get_collection(values["collection"])
        stmt = stmt.where(Interview.collection_id == collection.id)
    if values.get("person"):
        stmt = stmt.where(Interview.participants.any(Participant.person_id == values["person"]))
    if values.get("year_from") is not None:
        stmt = stmt.where(Interview.date_recorded >= f"{values['year_from']:04d}")
    if values.get("year_to") is not None:
        stmt = stmt.where(Interview.date_recorded < f"{values['year_to'] + 1:04d}")
        stmt = stmt.where(Interview.date_recorded != "")
    if values.get("access_level"):
        stmt = stmt.where(Interview.access_level == values["access_level"])
    if values.get("status"):
        stmt = stmt.where(Interview.status == values["status"])
    if values.get("q"):
        stmt = stmt.where(func.lower(Interview.title).contains(values["q"].lower()))
    return stmt.order_by(*SORTS[values["sort"]]), values


def next_accession(year: int | None = None) -> str:
    """Generate ``OH-YYYY-NNN``: the next free number for the year."""
    year = year or utcnow().year
    prefix = f"OH-{year}-"
    taken = db.session.scalars(
        select(Interview.accession).where(Interview.accession.like(f"{prefix}%"))
    ).all()
    numbers = [int(a[len(prefix) :]) for a in taken if a[len(prefix) :].isdigit()]
    return f"{prefix}{(max(numbers) + 1 if numbers else 1):03d}"


INTERVIEW_TEXT_FIELDS = {
    "title": 255,
    "accession": 64,
    "summary": 20000,
    "place": 255,
    "language": 35,
    "rights_statement": 5000,
}


def save_interview(
    viewer: Viewer, data: Mapping[str, Any], interview: Interview | None = None
) -> Interview:
    """Create (``interview`` None) or update an interview's catalogue record.

    ``participants`` is a list of ``{"person_id", "role"}`` and replaces the current list.
    Only archivists set ``access_level`` and ``embargo_until`` on a record that exists;
    ``status`` changes only through ``publish``/``unpublish``.
    """
    creating = interview is None
    if creating:
        require(policy.can_create_interview(viewer), "Only contributors and archivists deposit.")
    else:
        require(
            policy.can_edit_record(viewer, interview),
            "You may edit only your own drafts." if viewer.is_contributor else "Not allowed.",
        )
    fields = Fields(data, partial=not creating)
    for name, length in INTERVIEW_TEXT_FIELDS.items():
        fields.string(
            name, required=name == "title" and (creating or fields.present(name)), max_length=length
        )
    fields.partial_date("date_recorded")
    fields.integer("collection_id", minimum=1)
    fields.choice("access_level", ACCESS_LEVELS, default="open" if creating else None)
    fields.date("embargo_until")
    values = fields.check()
    if "accession" in values and not values["accession"]:
        del values["accession"]
    if not creating and not viewer.is_archivist:
        for managed in ("access_level", "embargo_until"):
            if managed in values and values[managed] != getattr(interview, managed):
                raise ValidationError(
                    f"Only archivists change {managed.replace('_', ' ')}.",
                    fields={managed: "only archivists change this"},
                )
    collection_id = values.get("collection_id")
    if collection_id is not None and db.session.get(Collection, collection_id) is None:
        raise ValidationError(
            f"There is no collection {collection_id}.",
            fields={"collection_id": "unknown collection"},
        )
    participants = None
    if "participants" in data:
        participants = _parse_participants(data["participants"])
    accession = values.get("accession")
    if accession:
        clash = db.session.scalar(select(Interview).where(Interview.accession == accession))
        if clash is not None and clash is not interview:
            raise Conflict(
                f"The accession identifier {accession} is already used by another interview.",
                fields={"accession": "already used"},
            )
    if creating:
        interview = Interview(status="draft", created_by_id=viewer.user_id)
        if not accession:
            year = int(values["date_recorded"][:4]) if values.get("date_recorded") else None
            values["accession"] = next_accession(year)
        db.session.add(interview)
    for key, value in values.items():
        setattr(interview, key, value)
    if participants is not None:
        interview.participants.clear()
        db.session.flush()
        for position, (person_id, role) in enumerate(participants):
            interview.participants.append(
                Participant(person_id=person_id, role=role, position=position)
            )
    db.session.flush()
    return interview


def _parse_participants(raw: Any) -> list[tuple[int, str]]:
    if not isinstance(raw, list):
        raise ValidationError(
            "participants must be a list of {person_id, role}.",
            fields={"participants": "must be a list"},
        )
    parsed: list[tuple[int, str]] = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise ValidationError(
                f"participants[{index}] must be an object with person_id and role.",
                fields={"participants": f"item {index} is not an object"},
            )
        fields = Fields(item)
        fields.integer("person_id", required=True, minimum=1)
        fields.choice("role", PARTICIPANT_ROLES, default="interviewee")
        try:
            values = fields.check()
        except ValidationError as exc:
            raise ValidationError(
                f"participants[{index}]: {exc.message}", fields={"participants": exc.message}
            ) from None
        if db.session.get(Person, values["person_id"]) is None:
            raise ValidationError(
                f"participants[{index}]: there is no person {values['person_id']}.",
                fields={"participants": f"unknown person {values['person_id']}"},
            )
        pair = (values["person_id"], values["role"])
        if pair not in parsed:
            parsed.append(pair)
    return parsed


def publish(viewer: Viewer, interview: Interview) -> Interview:
    require(policy.can_manage(viewer, interview), "Only archivists publish interviews.")
    if interview.status != "published":
        interview.status = "published"
        interview.published_at = now()
        db.session.flush()
    return interview


def unpublish(viewer: Viewer, interview: Interview) -> Interview:
    require(policy.can_manage(viewer, interview), "Only archivists unpublish interviews.")
    if interview.status != "draft":
        interview.status = "draft"
        db.session.flush()
    return interview
