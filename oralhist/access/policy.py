"""The one access policy: pure functions of who is asking, what they ask for, and when.

Every path that returns a catalogue record, audio bytes, transcript text, a search snippet, a
count, an export or API data asks these functions. They read no database and no request:
the caller passes a ``Viewer`` (built once per request by ``oralhist.access.current_viewer``)
and the clock, so the same rules are easy to test for every role, level and date.

Levels (DESIGN.md): ``open`` anyone; ``registered`` any signed-in user; ``restricted``
archivists and holders of an approved, unexpired grant; ``closed`` archivists only. An
embargo date makes an interview ``closed`` until that date, then its level applies again.
The contributor who deposited an interview keeps access to its material. The catalogue
record (title, names, summary, duration) of a published interview is public.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..models.types import ACCESS_LEVELS, ROLES
from ..search.scope import SearchScope, day_number
from . import consent

ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}

#: Plain sentences shown to every visitor, by effective level.
LEVEL_SENTENCES = {
    "open": "Audio and transcript are open to everyone.",
    "registered": "Audio and transcript are available to signed-in researchers.",
    "restricted": "Audio and transcript are available on request.",
    "closed": "Audio and transcript are closed.",
}


#: How the material not closed by an agreement is available, by level.
LEVEL_PHRASES = {
    "open": "open to everyone",
    "registered": "available to signed-in researchers",
    "restricted": "available on request",
    "closed": "closed",
}


@dataclass(frozen=True)
class Grant:
    """An approved access request, as the policy needs it."""

    request_id: int
    scope: str  # "listen" | "listen_download"
    expires_at: dt.datetime | None = None

    def valid(self, now: dt.datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True)
class Viewer:
    """Who is asking: anonymous when ``user_id`` is None."""

    user_id: int | None = None
    role: str | None = None
    #: interview id -> approved grant (expiry is checked against ``now`` by the policy).
    grants: Mapping[int, Grant] = field(default_factory=dict)
    #: interviews this user deposited (created).
    own_interview_ids: frozenset[int] = frozenset()

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None

    def at_least(self, role: str) -> bool:
        return self.role is not None and ROLE_RANK[self.role] >= ROLE_RANK[role]

    @property
    def is_archivist(self) -> bool:
        return self.at_least("archivist")

    @property
    def is_admin(self) -> bool:
        return self.at_least("admin")

    @property
    def is_contributor(self) -> bool:
        return self.at_least("contributor")


ANONYMOUS = Viewer()


def today_of(now: dt.datetime) -> dt.date:
    return now.astimezone(dt.UTC).date()


def _closed_on(until: dt.date | None, today: dt.date) -> bool:
    return until is not None and today < until


def transcript_closed_by_consent(interview, now: dt.datetime) -> bool:
    """A participant's agreement closes the transcript today (``access.consent``)."""
    return _closed_on(getattr(interview, "consent_transcript_until", None), today_of(now))


def audio_closed_by_consent(interview, now: dt.datetime) -> bool:
    """A participant's agreement closes the audio today (``access.consent``)."""
    return _closed_on(getattr(interview, "consent_audio_until", None), today_of(now))


def effective_level(interview, now: dt.datetime) -> str:
    """The level in force now: ``closed`` while an embargo runs or while the agreements close
    both transcript and audio, else the interview's own."""
    if interview.embargo_until is not None and today_of(now) < interview.embargo_until:
        return "closed"
    if transcript_closed_by_consent(interview, now) and audio_closed_by_consent(interview, now):
        return "closed"
    return interview.access_level


#: What will hold once a draft is published, by effective level (a draft itself is seen only
#: by its contributor and archivists, whatever its level: "open to everyone" was untrue).
DRAFT_SENTENCES = {
    "open": "Audio and transcript will be open to everyone once it is published.",
    "registered": "Audio and transcript will be available to signed-in researchers once it "
    "is published.",
    "restricted": "Audio and transcript will be available on request once it is published.",
    "closed": "Audio and transcript will stay closed when it is published.",
}
DRAFT_PREFIX = "This is a draft, seen only by its contributor and archivists."


def index_embargo(interview) -> dt.date | None:
    """The date until which the interview's words are closed, as the search index holds it:
    the later of the embargo and the agreements' closing of the transcript (the index
    compares it with the day at query time, so a date passing lifts it by itself)."""
    dates = [d for d in (interview.embargo_until, interview.consent_transcript_until) if d]
    return max(dates, default=None)


def consent_reasons(interview, now: dt.datetime) -> list[str]:
    """Why the agreements restrict the interview today, in plain sentences."""
    return consent.reasons_in_force(consent.interview_closures(interview), today_of(now))


def _draft_sentence(interview, now: dt.datetime) -> str:
    level = effective_level(interview, now)
    embargoed = (
        level == "closed" and interview.embargo_until and today_of(now) < interview.embargo_until
    )
    later = DRAFT_SENTENCES[level]
    if embargoed:
        later = (
            "Audio and transcript will be closed until "
            f"{interview.embargo_until:%-d %B %Y}, even once it is published."
        )
    return f"{DRAFT_PREFIX} {later}"


def level_sentence(interview, now: dt.datetime) -> str:
    """What the interview page says of its access, with the reason in plain words (for a
    draft: that it is a draft, and what will hold once it is published)."""
    if getattr(interview, "status", "published") == "draft":
        return _draft_sentence(interview, now)
    reasons = consent_reasons(interview, now) if _has_consent_closure(interview, now) else []
    embargoed = interview.embargo_until is not None and today_of(now) < interview.embargo_until
    if embargoed:
        reasons.insert(
            0, f"Audio and transcript are closed until {interview.embargo_until:%-d %B %Y}."
        )
    if reasons:
        if not embargoed and effective_level(interview, now) != "closed":
            # one kind of material is closed by an agreement: say how the other is available
            other = "audio" if transcript_closed_by_consent(interview, now) else "transcript"
            reasons.append(f"The {other} is {LEVEL_PHRASES[interview.access_level]}.")
        return " ".join(reasons)
    return LEVEL_SENTENCES[effective_level(interview, now)]


def _has_consent_closure(interview, now: dt.datetime) -> bool:
    return transcript_closed_by_consent(interview, now) or audio_closed_by_consent(interview, now)


def is_owner(viewer: Viewer, interview) -> bool:
    return viewer.signed_in and (
        interview.id in viewer.own_interview_ids or interview.created_by_id == viewer.user_id
    )


# --- catalogue -----------------------------------------------------------------------------


def can_view_record(viewer: Viewer, interview) -> bool:
    """The catalogue record: public once published; a draft only to its creator and archivists."""
    if interview.status == "published":
        return True
    return viewer.is_archivist or is_owner(viewer, interview)


def can_create_interview(viewer: Viewer) -> bool:
    return viewer.is_contributor


def can_edit_record(viewer: Viewer, interview) -> bool:
    """Archivists edit anything; a contributor edits their own drafts, but not while anything
    of it is withheld from them (``withholds``: a redaction in force or an anonymised
    participant): the forms would show them the real title, names and words the archive
    keeps from every reader but archivists, and what they saved would write the masked
    copy over them. The catalogue form, the API's PATCH, recordings, transcripts, speakers
    and the editor all ask this one rule."""
    if viewer.is_archivist:
        return True
    return (
        viewer.is_contributor
        and is_owner(viewer, interview)
        and interview.status == "draft"
        and not withholds(interview)
    )


def edit_refusal(
    viewer: Viewer, interview, otherwise: str = "You may edit only your own drafts."
) -> str:
    """Why ``viewer`` may not edit ``interview`` (``can_edit_record`` is false): the withheld
    material when that is the reason, else ``otherwise``."""
    if (
        viewer.is_contributor
        and is_owner(viewer, interview)
        and interview.status == "draft"
        and withholds(interview)
    ):
        return (
            "Only archivists edit an interview with redactions or anonymised names in force; "
            "ask an archivist to make the change."
        )
    return otherwise


def can_set_access(viewer: Viewer, interview) -> bool:
    """Change an existing interview's access level or embargo: archivists only (a
    contributor chooses the level of a new deposit, which an archivist reviews before
    publishing)."""
    return viewer.is_archivist


def can_assign_accession(viewer: Viewer) -> bool:
    """Choose an interview's accession identifier (a deposit without one gets the next
    generated identifier). Archivists only: accessions are unique across the archive, drafts
    included, so letting a contributor choose one would tell them (409 against 201) that an
    identifier is held by a draft they may not see."""
    return viewer.is_archivist


def can_manage(viewer: Viewer, interview=None) -> bool:
    """Publish, set access, decide requests, delete recordings, link passages anywhere."""
    return viewer.is_archivist


def can_submit_for_review(viewer: Viewer, interview) -> bool:
    """The contributor of a draft asks the archivists to review (and publish) it; they may
    also take the request back while it waits."""
    return viewer.is_contributor and is_owner(viewer, interview) and interview.status == "draft"


def can_review(viewer: Viewer) -> bool:
    """See the drafts awaiting review (the archivists' review queue)."""
    return viewer.is_archivist


def can_manage_consent(viewer: Viewer, interview=None) -> bool:
    """See and change release agreements (and their signed forms) and redactions: archivists
    only (an agreement's terms and a redaction's reason are themselves confidential)."""
    return viewer.is_archivist


def sees_unredacted(viewer: Viewer) -> bool:
    """Redacted passages and anonymised names are withheld from everyone but archivists
    (the depositor included: a redaction protects a third party from every reader)."""
    return viewer.is_archivist


def may_name_participant(viewer: Viewer, interview, person_id: int) -> bool:
    """Whether ``viewer`` may learn that person ``person_id`` took part in ``interview``
    (false when their agreement asks to be anonymised, for everyone but archivists): a
    person's page does not list the interviews where they are anonymous."""
    return sees_unredacted(viewer) or person_id not in consent.anonymised_labels(interview)


def may_see_person(viewer: Viewer, person) -> bool:
    """Whether ``viewer`` may see ``person`` at all (their page, the people list, the
    type-ahead): not when every one of their participations is anonymised, for everyone but
    archivists; the SQL twin is ``clauses.people_named_clause``."""
    if sees_unredacted(viewer) or not person.participations:
        return True
    return any(p.agreement is None or not p.agreement.anonymise for p in person.participations)


def can_edit_catalogue(viewer: Viewer) -> bool:
    """Collections and people: contributors create and edit; archivists merge."""
    return viewer.is_contributor


def can_merge_people(viewer: Viewer) -> bool:
    return viewer.is_archivist


def can_administer(viewer: Viewer) -> bool:
    return viewer.is_admin


# --- background jobs -----------------------------------------------------------------------


def can_see_job(viewer: Viewer, job) -> bool:
    """A job's status, progress and result: the user who started it, and archivists. Anyone
    else is told it does not exist (a job names an interview and may carry its words)."""
    if viewer.is_archivist:
        return True
    return viewer.signed_in and job.created_by_id == viewer.user_id


def can_cancel_job(viewer: Viewer, job) -> bool:
    """Stop a queued or running job: whoever may see it."""
    return can_see_job(viewer, job)


def can_retry_job(viewer: Viewer, job) -> bool:
    """Run a failed or cancelled job again: whoever may see it; a job started by the system
    (at ingest) only by archivists."""
    return can_see_job(viewer, job)


# --- the interview's material --------------------------------------------------------------


def _grant(viewer: Viewer, interview, now: dt.datetime) -> Grant | None:
    grant = viewer.grants.get(interview.id)
    return grant if grant is not None and grant.valid(now) else None


def _material_open_to(viewer: Viewer, interview, now: dt.datetime, kind: str) -> bool:
    """``kind`` ``transcript`` or ``audio``: the agreements may close one and not the other."""
    if viewer.is_archivist or is_owner(viewer, interview):
        return True
    if interview.status != "published":
        return False
    if kind == "transcript" and transcript_closed_by_consent(interview, now):
        return False
    if kind == "audio" and audio_closed_by_consent(interview, now):
        return False
    level = effective_level(interview, now)
    if level == "open":
        return True
    if level == "registered":
        return viewer.signed_in
    if level == "restricted":
        return _grant(viewer, interview, now) is not None
    return False


def can_read_transcript(viewer: Viewer, interview, now: dt.datetime) -> bool:
    """Transcript text: the page, the API, exports, search snippets and counts."""
    return _material_open_to(viewer, interview, now, "transcript")


def can_listen(viewer: Viewer, interview, now: dt.datetime) -> bool:
    """Stream the audio in the player (a Range request is streaming too)."""
    return _material_open_to(viewer, interview, now, "audio")


def can_download_master(viewer: Viewer, interview, now: dt.datetime) -> bool:
    """Download the master file: as listening, except that a restricted grant must carry the
    ``listen_download`` scope."""
    if not _material_open_to(viewer, interview, now, "audio"):
        return False
    if viewer.is_archivist or is_owner(viewer, interview):
        return True
    if effective_level(interview, now) == "restricted":
        grant = _grant(viewer, interview, now)
        return grant is not None and grant.scope == "listen_download"
    return True


@dataclass(frozen=True)
class AudioDelivery:
    """How ``/recordings/<id>/audio`` and ``/download`` may answer one request.

    ``allowed`` False: refuse with ``refusal``. ``max_range_bytes``: a cap on the bytes of
    one Range response (None: as asked). ``audited``: reads are written to the audit log.
    """

    allowed: bool
    refusal: str = ""
    max_range_bytes: int | None = None
    audited: bool = False
    #: Which file goes out: "access" (the access copy) or "master".
    source: str = "master"


#: The refusal of a whole-file request to a listen-only grant.
LISTEN_ONLY_REFUSAL = (
    "Your access to this recording is to listen in the player; saving the whole file needs "
    "a listen-and-download grant (ask an archivist)."
)


def audio_delivery(
    viewer: Viewer,
    interview,
    now: dt.datetime,
    *,
    download: bool,
    ranged: bool,
    listen_only_range_bytes: int,
    access_copy: bool = False,
) -> AudioDelivery:
    """Whether and how audio bytes go out.

    ``/download`` (``download``) serves those who may download the master. ``/audio`` serves
    those who may listen; for a listen-only grant (may listen, may not download) it serves
    only Range requests, as the player makes them, each cut to ``listen_only_range_bytes``
    (the browser asks again for the rest), and refuses whole-file requests. This is a
    deterrent, not a control: any audio a browser can play can be saved by a determined
    listener (README, "Listening and downloading"). Reads of material that is not open are
    audited.

    Which file: ``/audio`` (the player) streams the recording's access copy whenever one
    exists (``access_copy``), to every listener, archivists included; the master goes out
    from ``/audio`` only while there is no access copy yet, and otherwise only from
    ``/download``, to those who may download it (archivists, the depositor, download
    grants)."""
    audited = effective_level(interview, now) != "open" or interview.status != "published"
    if download:
        if not can_download_master(viewer, interview, now):
            return AudioDelivery(False, "You may not download this recording.")
        return AudioDelivery(True, audited=audited)
    if not can_listen(viewer, interview, now):
        return AudioDelivery(False, level_sentence(interview, now))
    source = "access" if access_copy else "master"
    if can_download_master(viewer, interview, now):
        return AudioDelivery(True, audited=audited, source=source)
    if not ranged:
        return AudioDelivery(False, LISTEN_ONLY_REFUSAL)
    return AudioDelivery(
        True, max_range_bytes=listen_only_range_bytes, audited=audited, source=source
    )


#: What anyone who may see the record learns of a recording: the catalogue's part list
#: (position, duration, format) and no more.
RECORDING_CATALOGUE_FIELDS = frozenset(
    {"id", "interview_id", "position", "duration_ms", "format", "browser_playable"}
)
#: What listeners learn besides: the part's label, how the audio is encoded, and its
#: checksum (the ETag of the audio they are sent).
RECORDING_LISTENER_FIELDS = RECORDING_CATALOGUE_FIELDS | {
    "sha256",
    "label",
    "mime",
    "codec",
    "sample_rate",
    "channels",
    "bitrate",
    "size",
    "uploaded_at",
    "tags",
    # the player's loudness strip, and whether the streamed access copy is made (issue 16)
    "waveform_url",
    "access_copy",
}
#: What those who may have the file itself learn: the name it was deposited under.
RECORDING_FILE_FIELDS = RECORDING_LISTENER_FIELDS | {"original_filename"}


def recording_fields(viewer: Viewer, interview, now: dt.datetime) -> frozenset[str]:
    """Which fields of a recording's metadata ``viewer`` may read.

    A label ("Tape 2: the strike committee"), embedded tags, the uploader's file name and the
    checksum describe material one may not hear (and the checksum confirms a copy), so those
    who may not listen get only what the catalogue shows. The deposited file's name goes only
    to those who may download the master or edit the interview's material."""
    if can_download_master(viewer, interview, now) or can_edit_material(viewer, interview):
        return RECORDING_FILE_FIELDS
    if can_listen(viewer, interview, now):
        return RECORDING_LISTENER_FIELDS
    return RECORDING_CATALOGUE_FIELDS


def can_download_transcript(viewer: Viewer, interview, now: dt.datetime) -> bool:
    return can_read_transcript(viewer, interview, now)


def can_edit_material(viewer: Viewer, interview) -> bool:
    """Upload recordings, import transcripts, tag speakers: the record's editors."""
    return can_edit_record(viewer, interview)


def can_edit_transcript(viewer: Viewer, interview) -> bool:
    """Correct the transcript in the editor (text, times, speakers, index points; each save
    a new version): the record's editors, i.e. archivists, and the contributor of a draft,
    but only archivists while anything of it is withheld from its contributor (``withholds``):
    the contributor would see and save a masked copy, writing placeholders and labels over
    the words and names the archive keeps."""
    return can_edit_record(viewer, interview)


def withholds(interview, at: dt.datetime | None = None) -> bool:
    """Whether anything of ``interview`` is withheld from everyone but archivists: a
    redaction in force or an anonymised participant."""
    if at is None:
        from . import now

        at = now()
    today = today_of(at)
    return any(r.until is None or today < r.until for r in interview.redactions) or bool(
        consent.anonymised_labels(interview)
    )


def can_request_access(viewer: Viewer, interview, now: dt.datetime) -> bool:
    """A signed-in user who cannot yet hear a published, restricted interview may ask."""
    return (
        viewer.signed_in
        and interview.status == "published"
        and effective_level(interview, now) == "restricted"
        and not audio_closed_by_consent(interview, now)
        and not can_listen(viewer, interview, now)
    )


def is_on_request(interview, now: dt.datetime) -> bool:
    """A published interview whose material is available on request today (restricted and
    not under embargo): the request-access panel's wording depends on it."""
    return interview.status == "published" and effective_level(interview, now) == "restricted"


def grants_in_force(viewer: Viewer, now: dt.datetime) -> dict[int, Grant]:
    """The viewer's grants that are valid at ``now``, by interview id."""
    return {iid: grant for iid, grant in viewer.grants.items() if grant.valid(now)}


# --- access requests -----------------------------------------------------------------------


def can_view_request(viewer: Viewer, access_request) -> bool:
    """An access request: its requester and archivists see it; to others it does not exist."""
    return viewer.signed_in and (
        viewer.is_archivist or access_request.requester_id == viewer.user_id
    )


def can_see_requester_history(viewer: Viewer) -> bool:
    """A requester's earlier requests, shown beside the one being decided."""
    return viewer.is_archivist


def can_decide_requests(viewer: Viewer) -> bool:
    """The archivists' queue of requests (the moves themselves are ``workflow.MOVES``)."""
    return can_manage(viewer)


# --- documents -----------------------------------------------------------------------------


def document_levels(viewer: Viewer) -> frozenset[str]:
    """Document levels this viewer may see (documents have no per-user grants)."""
    if viewer.is_archivist:
        return frozenset({"open", "registered", "restricted", "closed"})
    if viewer.is_contributor:
        return frozenset({"open", "registered", "restricted"})
    if viewer.signed_in:
        return frozenset({"open", "registered"})
    return frozenset({"open"})


def can_view_document(viewer: Viewer, document) -> bool:
    return document.access_level in document_levels(viewer) or (
        viewer.signed_in and document.created_by_id == viewer.user_id
    )


def can_edit_document(viewer: Viewer, document=None) -> bool:
    if viewer.is_archivist:
        return True
    if document is None:
        return viewer.is_contributor
    return viewer.is_contributor and document.created_by_id == viewer.user_id


def can_set_document_level(viewer: Viewer, level: str) -> bool:
    """Give a document ``level``: archivists any; others only a level they could see."""
    return viewer.is_archivist or level in document_levels(viewer)


def can_link_passages(viewer: Viewer, interview) -> bool:
    return viewer.is_archivist or (viewer.is_contributor and is_owner(viewer, interview))


# --- passage links (mentions) --------------------------------------------------------------

#: Access levels from least to most strict (the link rule compares them).
_LEVEL_RANK = {level: rank for rank, level in enumerate(ACCESS_LEVELS)}


def link_refusal(document, interview) -> str | None:
    """Why ``document`` may not be linked from ``interview`` (None when it may).

    A link must not expose a document to people who may not see it, so the document's level
    may not be stricter than the interview's own ``access_level``. The interview's level is
    compared, not a temporary embargo (which closes it only until a date): a closed document
    is never linked from an open interview that happens to be embargoed today.
    """
    if _LEVEL_RANK[document.access_level] > _LEVEL_RANK[interview.access_level]:
        return (
            f"This document is {document.access_level} but the interview is "
            f"{interview.access_level}: a link must not expose a document to people who "
            "cannot see it. Link it only from interviews at the same or a stricter level."
        )
    return None


@dataclass(frozen=True)
class PassageAccess:
    """What one viewer may see of one passage link.

    ``listed``: that the link exists, with the document, the interview's catalogue line, the
    time range and the citation (all catalogue data: a published interview's record is
    public, and the document is one the viewer may see). ``words``: everything written about
    or taken from the interview's content: the link's note, the transcript excerpt and its
    speakers. The note is the interview's text as much as the transcript is (it usually
    paraphrases the passage), so it follows ``can_read_transcript``.
    """

    listed: bool
    words: bool


def passage_access(viewer: Viewer, interview, document, now: dt.datetime) -> PassageAccess:
    listed = can_view_record(viewer, interview) and can_view_document(viewer, document)
    return PassageAccess(listed, listed and can_read_transcript(viewer, interview, now))


def can_see_suggestions(viewer: Viewer) -> bool:
    """Suggested passages for a document: contributors (limited to the interviews where they
    may link passages) and archivists (everywhere)."""
    return viewer.is_contributor


def can_take_suggestion(viewer: Viewer, interview) -> bool:
    """A suggestion from ``interview`` is shown (and may be accepted) only where the viewer
    may link passages: suggestions come from transcript text."""
    return can_see_suggestions(viewer) and can_link_passages(viewer, interview)


def can_dismiss_suggestions(viewer: Viewer) -> bool:
    return viewer.is_archivist


# --- search --------------------------------------------------------------------------------


def search_scope(viewer: Viewer, now: dt.datetime) -> SearchScope:
    """The query-time restriction the search index applies for this viewer (the same rules as
    ``can_read_transcript`` and ``can_view_record``, expressed over indexed fields)."""
    if viewer.is_archivist:
        return SearchScope(everything=True, document_levels=document_levels(viewer))
    levels = {"open"}
    if viewer.signed_in:
        levels.add("registered")
    # A grant opens only what ``_material_open_to`` lets it open (a published, restricted
    # interview past its embargo); a deposit opens everything of it to its contributor.
    granted = {iid for iid, grant in viewer.grants.items() if grant.valid(now)}
    today = today_of(now)
    return SearchScope(
        everything=False,
        levels=frozenset(levels),
        today=day_number(today),
        granted_interview_ids=frozenset(viewer.own_interview_ids),
        owner_user_id=viewer.user_id,
        document_levels=document_levels(viewer),
        access_grant_ids=frozenset(granted),
    )


# --- what templates receive ----------------------------------------------------------------


@dataclass(frozen=True)
class SitePermissions:
    """The viewer's site-wide permissions as plain booleans, for every template (``may``):
    templates never see the policy module, the viewer's role or its grants."""

    signed_in: bool
    deposit: bool
    edit_catalogue: bool
    edit_documents: bool
    manage: bool
    administer: bool
    assign_accession: bool
    review: bool
    #: document access levels the viewer may see (the documents list's filter offers these)
    document_levels: frozenset[str]


def site_permissions(viewer: Viewer) -> SitePermissions:
    return SitePermissions(
        signed_in=viewer.signed_in,
        deposit=can_create_interview(viewer),
        edit_catalogue=can_edit_catalogue(viewer),
        edit_documents=can_edit_document(viewer),
        manage=can_manage(viewer),
        administer=can_administer(viewer),
        assign_accession=can_assign_accession(viewer),
        review=can_review(viewer),
        document_levels=document_levels(viewer),
    )
