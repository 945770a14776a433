"""The policy's list filters: SQL criteria that select the rows a viewer may see.

Each function here is the SQL twin of a predicate in ``policy`` and must select exactly the
rows for which that predicate is true (``tests/access/test_list_filters.py`` checks every role
x level x status x embargo x grant state against both). Lists, counts and pages use these;
single records use the predicates. Building a criterion reads no database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, false, or_, true

from ..models import AccessRequest, Document, Interview, Job
from .policy import Viewer, document_levels, today_of


def visible_interviews_clause(viewer: Viewer) -> Any:
    """Interviews whose catalogue record ``viewer`` may see (``policy.can_view_record``):
    every published one; drafts only to archivists and to the contributor who made them."""
    if viewer.is_archivist:
        return true()
    published = Interview.status == "published"
    if not viewer.signed_in:
        return published
    own = Interview.created_by_id == viewer.user_id
    if viewer.own_interview_ids:
        own = or_(own, Interview.id.in_(sorted(viewer.own_interview_ids)))
    return or_(published, own)


def public_interviews_clause() -> Any:
    """Interviews whose record anyone may see (the home page's recent list, the collections'
    public counts): the same as ``visible_interviews_clause`` for an anonymous viewer."""
    from .policy import ANONYMOUS

    return visible_interviews_clause(ANONYMOUS)


def readable_interviews_clause(viewer: Viewer, now: dt.datetime) -> Any:
    """Interviews whose transcript ``viewer`` may read (``policy.can_read_transcript``), as
    the effective level on ``now``'s date decides (an embargo closes until its date)."""
    if viewer.is_archivist:
        return true()
    today = today_of(now)
    not_embargoed = and_(
        or_(Interview.embargo_until.is_(None), Interview.embargo_until <= today),
        # the agreements' closing of the transcript (``policy.transcript_closed_by_consent``)
        or_(
            Interview.consent_transcript_until.is_(None),
            Interview.consent_transcript_until <= today,
        ),
    )
    levels = ["open"] + (["registered"] if viewer.signed_in else [])
    material = and_(
        Interview.status == "published", not_embargoed, Interview.access_level.in_(levels)
    )
    granted = sorted(iid for iid, grant in viewer.grants.items() if grant.valid(now))
    if granted:
        material = or_(
            material,
            and_(
                Interview.status == "published",
                not_embargoed,
                Interview.access_level == "restricted",
                Interview.id.in_(granted),
            ),
        )
    if viewer.signed_in:
        own = Interview.created_by_id == viewer.user_id
        if viewer.own_interview_ids:
            own = or_(own, Interview.id.in_(sorted(viewer.own_interview_ids)))
        material = or_(material, own)
    return material


def visible_documents_clause(viewer: Viewer) -> Any:
    """Documents ``viewer`` may see (``policy.can_view_document``): those of a level the
    viewer's role sees, and those the viewer catalogued."""
    clause = Document.access_level.in_(sorted(document_levels(viewer)))
    if viewer.signed_in:
        clause = or_(clause, Document.created_by_id == viewer.user_id)
    return clause


def visible_requests_clause(viewer: Viewer, *, mine: bool = False) -> Any:
    """Access requests ``viewer`` may see (``policy.can_view_request``): an archivist sees
    all (or, with ``mine``, their own), anyone else only their own; nothing when anonymous."""
    if not viewer.signed_in:
        return false()
    if viewer.is_archivist and not mine:
        return true()
    return AccessRequest.requester_id == viewer.user_id


def visible_jobs_clause(viewer: Viewer) -> Any:
    """Jobs ``viewer`` may see (``policy.can_see_job``): archivists all; a signed-in user
    those they started; anonymous none."""
    if viewer.is_archivist:
        return true()
    if not viewer.signed_in:
        return false()
    return Job.created_by_id == viewer.user_id


def _anonymised_participation() -> Any:
    """A participation whose release agreement asks to anonymise the participant."""
    from ..models import Participant, ReleaseAgreement

    return Participant.agreement.has(ReleaseAgreement.anonymise.is_(True))


def named_participations_clause(viewer: Viewer) -> Any:
    """The participations ``viewer`` may tie to their interview (``may_name_participant``):
    all for archivists; for everyone else, not those whose agreement asks for anonymity."""
    from .policy import sees_unredacted

    if sees_unredacted(viewer):
        return true()
    return ~_anonymised_participation()


def interview_names_hidden_clause(viewer: Viewer, words: list[str]) -> Any:
    """Interviews where one of ``words`` may be part of an anonymised participant's name:
    a title search for those words must not find them (the title a non-archivist sees has
    the name replaced by its label). Nothing for archivists."""
    from sqlalchemy import func

    from ..models import Participant, Person
    from .policy import sees_unredacted

    words = [w.lower() for w in words if w.strip()]
    if sees_unredacted(viewer) or not words:
        return false()
    name = func.lower(Person.name)
    return Interview.participants.any(
        and_(
            _anonymised_participation(),
            Participant.person.has(or_(*(name.contains(w, autoescape=True) for w in words))),
        )
    )


def people_named_clause(viewer: Viewer) -> Any:
    """The people ``viewer`` may see in the people list, the type-ahead and on their page:
    everyone for archivists; for everyone else, not a person whose every participation is
    anonymised (their name would be all the page says, and that they are in the archive at
    all is what the agreement keeps private). A person with no participation is listed."""
    from ..models import Person
    from .policy import sees_unredacted

    if sees_unredacted(viewer):
        return true()
    return or_(
        ~Person.participations.any(),
        Person.participations.any(~_anonymised_participation()),
    )
