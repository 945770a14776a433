"""Catalogue use cases: collections, people, interviews and their participants."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..access import clauses, now, policy, require
from ..access.policy import Viewer
from ..errors import Conflict, NotFound, ValidationError
from ..extensions import db
from ..models import Collection, Interview, Participant, Person
from ..models.types import ACCESS_LEVELS, PARTICIPANT_ROLES, utcnow
from . import audit, consent
from .fields import SLUG, Fields, record_id

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
        number = record_id(ident)
        found = db.session.get(Collection, number) if number is not None else None
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


def get_person(person_id: int, viewer: Viewer | None = None) -> Person:
    """The person; with ``viewer``, only if they may see them (``policy.may_see_person``:
    a person known only through anonymised participations is 'not found' to others)."""
    person = db.session.get(Person, person_id)
    if person is None or (viewer is not None and not policy.may_see_person(viewer, person)):
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


def list_people(q: str = "", viewer: Viewer | None = None) -> Any:
    """People by sort name; with ``q``, those whose name contains it (any case); with
    ``viewer``, only those they may see (``clauses.people_named_clause``)."""
    stmt = select(Person).order_by(func.lower(Person.sort_name), Person.id)
    if viewer is not None:
        stmt = stmt.where(clauses.people_named_clause(viewer))
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
    stmt = select(Interview).where(clauses.visible_interviews_clause(viewer))
    if values.get("collection"):
        collection = get_collection(values["collection"])
        stmt = stmt.where(Interview.collection_id == collection.id)
    if values.get("person"):
        stmt = stmt.where(
            Interview.participants.any(
                and_(
                    Participant.person_id == values["person"],
                    clauses.named_participations_clause(viewer),
                )
            )
        )
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
        stmt = stmt.where(
            func.lower(Interview.title).contains(values["q"].lower()),
            # the title a non-archivist sees has anonymised names replaced by labels
            ~clauses.interview_names_hidden_clause(viewer, values["q"].split()),
        )
    return stmt.order_by(*SORTS[values["sort"]]), values


#: How often a new interview's generated accession is taken again after a concurrent deposit
#: took the same number first. Each retry loses only to a deposit that committed meanwhile, so
#: N simultaneous deposits need at most N attempts; beyond this the caller gets a clean 409.
ACCESSION_ATTEMPTS = 32


def next_accession(year: int | None = None) -> str:
    """Generate ``OH-YYYY-NNN``: the next free number for the year (as far as this transaction
    can see: ``save_interview`` retries when a concurrent deposit took it first)."""
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
    "usage": 5000,
    "funding": 5000,
}


def save_interview(
    viewer: Viewer, data: Mapping[str, Any], interview: Interview | None = None
) -> Interview:
    """Create (``interview`` None) or update an interview's catalogue record.

    ``participants`` is a list of ``{"person_id", "role"}`` and replaces the current list.
    Only archivists set ``access_level`` and ``embargo_until`` on a record that exists, and
    choose an ``accession`` (``policy.can_assign_accession``; others get a generated one);
    ``status`` changes only through ``publish``/``unpublish``.
    """
    creating = interview is None
    if creating:
        require(policy.can_create_interview(viewer), "Only contributors and archivists deposit.")
    else:
        require(
            policy.can_edit_record(viewer, interview),
            lambda: policy.edit_refusal(
                viewer,
                interview,
                "You may edit only your own drafts." if viewer.is_contributor else "Not allowed.",
            ),
        )
    fields = Fields(data, partial=not creating)
    for name, length in INTERVIEW_TEXT_FIELDS.items():
        fields.string(
            name, required=name == "title" and (creating or fields.present(name)), max_length=length
        )
    fields.terms("subjects")
    fields.terms("keywords")
    fields.web_address("media_url")
    fields.partial_date("date_recorded")
    fields.integer("collection_id", minimum=1)
    fields.choice("access_level", ACCESS_LEVELS, default="open" if creating else None)
    fields.date("embargo_until")
    values = fields.check()
    if "accession" in values and not values["accession"]:
        del values["accession"]
    if (
        "accession" in values
        and not policy.can_assign_accession(viewer)
        and (creating or values["accession"] != interview.accession)
    ):
        raise ValidationError(
            "Accession identifiers are assigned by the archive: leave the field empty and the "
            "next one is generated; an archivist can change it.",
            fields={"accession": "only archivists choose it"},
        )
    if not creating and not policy.can_set_access(viewer, interview):
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
        participants = _parse_participants(viewer, data["participants"])
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
        for key, value in values.items():
            setattr(interview, key, value)
        year = int(values["date_recorded"][:4]) if values.get("date_recorded") else None
        _insert_interview(interview, generate=not accession, year=year)
    else:
        changes = []
        for key, action in (
            ("access_level", "interview.access_level"),
            ("embargo_until", "interview.embargo"),
        ):
            if key in values and values[key] != getattr(interview, key):
                changes.append((action, _audit_value(getattr(interview, key)), values[key]))
        if values.get("access_level", interview.access_level) != interview.access_level:
            consent.check_open_publication(
                interview, level=values["access_level"], status=interview.status
            )
        for key, value in values.items():
            setattr(interview, key, value)
        for action, before, after in changes:
            audit.record_interview_access(viewer, interview, action, before, _audit_value(after))
    if participants is not None:
        interview.participants.clear()
        db.session.flush()
        for position, (person_id, role) in enumerate(participants):
            interview.participants.append(
                Participant(person_id=person_id, role=role, position=position)
            )
    db.session.flush()
    return interview


def _audit_value(value: Any) -> Any:
    """A value as the audit log's JSON keeps it (dates as ISO text)."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def lock_interview(interview_id: int) -> None:
    """Hold the interview's row until this transaction ends, so that allocations among its
    parts (the next recording position, the next transcript version, which version is current)
    are made one transaction at a time: read the largest number *after* this, and it is still
    the largest when we insert.

    It is a no-op ``UPDATE`` of the row, the one statement that serialises on both databases:
    PostgreSQL takes the row lock (a second caller waits, then reads the first one's commit);
    SQLite takes its single write lock, waiting up to the busy timeout, and the transaction's
    reads begin after the previous writer's commit. (``SELECT ... FOR UPDATE`` would be ignored
    by SQLite.) Concurrent uploads used to share positions ``[0,0,1,1,1,1,2,...]`` and 7 of 8
    simultaneous imports answered 500 on a duplicate version."""
    db.session.execute(
        update(Interview)
        .where(Interview.id == interview_id)
        .values(status=Interview.status)
        .execution_options(synchronize_session=False)
    )


def _insert_interview(interview: Interview, *, generate: bool, year: int | None) -> None:
    """Insert a new interview. A generated accession is the year's next free number; when a
    concurrent deposit took the same number first, the unique constraint refuses ours inside a
    savepoint (nothing else of the transaction is lost) and the next number is tried. Sixteen
    simultaneous deposits in one year used to give 5-11 of 16 500s. A given accession taken
    meanwhile by someone else is a 409, as it is when it was taken before."""
    for _attempt in range(ACCESSION_ATTEMPTS):
        if generate:
            interview.accession = next_accession(year)
        try:
            with db.session.begin_nested():
                db.session.add(interview)
                db.session.flush()
            return
        except IntegrityError:
            taken = db.session.scalar(
                select(Interview.id).where(Interview.accession == interview.accession)
            )
            if taken is None:
                raise  # another constraint: not ours to explain
            if not generate:
                raise Conflict(
                    f"The accession identifier {interview.accession} is already used by "
                    "another interview.",
                    fields={"accession": "already used"},
                ) from None
    raise Conflict(
        f"Too many interviews were deposited at the same moment to give this one an accession "
        f"identifier ({ACCESSION_ATTEMPTS} tries); please send it again.",
        fields={"accession": "not allocated"},
    )


def _parse_participants(viewer: Viewer, raw: Any) -> list[tuple[int, str]]:
    """``[{"person_id", "role"}]`` or, for someone not yet in the archive,
    ``[{"name", "role"}]``: a name is the one existing person of exactly that name (any
    case), else a new person created on the spot, so a depositor never leaves the form to
    add someone. The role defaults to interviewee."""
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
        named = item.get("person_id") in (None, "") and item.get("name") not in (None, "")
        fields = Fields(item)
        if named:
            fields.string("name", required=True)
        else:
            fields.integer("person_id", required=True, minimum=1)
        fields.choice("role", PARTICIPANT_ROLES, default="interviewee")
        try:
            values = fields.check()
        except ValidationError as exc:
            raise ValidationError(
                f"participants[{index}]: {exc.message}", fields={"participants": exc.message}
            ) from None
        if named:
            person_id = person_named(viewer, values["name"]).id
        else:
            person_id = values["person_id"]
            if db.session.get(Person, person_id) is None:
                raise ValidationError(
                    f"participants[{index}]: there is no person {person_id}.",
                    fields={"participants": f"unknown person {person_id}"},
                )
        pair = (person_id, values["role"])
        if pair not in parsed:
            parsed.append(pair)
    return parsed


def person_named(viewer: Viewer, name: str) -> Person:
    """The one person called ``name`` (case and spacing aside), or a new one: two people
    of that name already make it ambiguous, so a new one is not guessed into either."""
    name = " ".join(name.split())
    matches = list(
        db.session.scalars(select(Person).where(func.lower(Person.name) == name.lower()).limit(2))
    )
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ValidationError(
            f"There are several people called {name}: choose the right one from the list.",
            fields={"participants": f"several people are called {name}"},
        )
    return save_person(viewer, {"name": name})


def publish(
    viewer: Viewer, interview: Interview, *, consent_override: str | None = None
) -> Interview:
    """Publish a draft. Open publication needs every narrator's signed release agreement,
    or an archivist's reason (``consent_override``, audited)."""
    require(policy.can_manage(viewer, interview), "Only archivists publish interviews.")
    if consent_override is not None:
        consent.set_override(viewer, interview, consent_override)
    if interview.status != "published":
        consent.check_open_publication(interview, level=interview.access_level, status="published")
        before = interview.status
        submitted = interview.review_requested_at is not None
        interview.status = "published"
        interview.published_at = now()
        interview.review_requested_at = None  # reviewed: off the review queue
        if submitted:
            from .review import tell_contributor_published

            tell_contributor_published(interview)
        db.session.flush()
        audit.record_interview_access(viewer, interview, "interview.publish", before, "published")
    return interview


def unpublish(viewer: Viewer, interview: Interview) -> Interview:
    require(policy.can_manage(viewer, interview), "Only archivists unpublish interviews.")
    if interview.status != "draft":
        before = interview.status
        interview.status = "draft"
        db.session.flush()
        audit.record_interview_access(viewer, interview, "interview.unpublish", before, "draft")
    return interview


# --- what the interview list shows of each interview -----------------------------------------


@dataclass(frozen=True)
class ListFacts:
    """What the interview list shows beside a title: the narrators, the audio's length and
    whether there is audio and a current transcript."""

    narrators: tuple[str, ...] = ()
    duration_ms: int = 0
    parts: int = 0
    has_transcript: bool = False

    @property
    def has_audio(self) -> bool:
        return self.parts > 0


def list_facts(
    interviews: Sequence[Interview], viewer: Viewer | None = None
) -> dict[int, ListFacts]:
    """``ListFacts`` of a page of interviews in three queries whatever the page size (never
    one per row). All of it is catalogue record (people, duration, that a transcript exists),
    public for a published interview: no transcript text. Narrators whose agreement asks
    for anonymity are named by their label ("Narrator A") unless ``viewer`` sees
    unredacted material (no viewer: the public's view)."""
    from ..access.consent import ROLE_LABELS
    from ..models import Recording, ReleaseAgreement, Transcript

    ids = [i.id for i in interviews]
    if not ids:
        return {}
    truth = viewer is not None and policy.sees_unredacted(viewer)
    narrators: dict[int, list[str]] = {}
    for interview_id, name, anonymise in db.session.execute(
        select(Participant.interview_id, Person.name, ReleaseAgreement.anonymise)
        .join(Person, Person.id == Participant.person_id)
        .outerjoin(ReleaseAgreement, ReleaseAgreement.participant_id == Participant.id)
        .where(Participant.interview_id.in_(ids), Participant.role == "interviewee")
        .order_by(Participant.interview_id, Participant.position)
    ):
        named = narrators.setdefault(interview_id, [])
        if anonymise and not truth:
            # the label ``access.consent.anonymised_labels`` gives: lettered by position
            n = len(named)
            name = f"{ROLE_LABELS['interviewee']} {chr(ord('A') + n) if n < 26 else n + 1}"
        named.append(name)
    audio = {
        interview_id: (int(total or 0), int(count))
        for interview_id, total, count in db.session.execute(
            select(Recording.interview_id, func.sum(Recording.duration_ms), func.count())
            .where(Recording.interview_id.in_(ids))
            .group_by(Recording.interview_id)
        )
    }
    transcribed = set(
        db.session.scalars(
            select(Transcript.interview_id).where(
                Transcript.interview_id.in_(ids), Transcript.is_current.is_(True)
            )
        )
    )
    return {
        i: ListFacts(
            narrators=tuple(narrators.get(i, ())),
            duration_ms=audio.get(i, (0, 0))[0],
            parts=audio.get(i, (0, 0))[1],
            has_transcript=i in transcribed,
        )
        for i in ids
    }
