"""Release agreements and time-range redactions: the use cases (archivists only), the
derivation of the interview's consent columns, and the masking of redacted transcript text.

**Derived at every flush.** ``Interview.consent_transcript_until`` / ``consent_audio_until``
(the latest date the agreements close each kind of material) are recomputed by a session
listener whenever an agreement, a participant or a person's date of death changes, so no
service can forget them; the policy, the list filters and the search index compare them with
the day at read time (``access.consent``).

**Masking, not altering.** The stored transcript and the master stay intact; for everyone
but archivists the text that overlaps a redaction is replaced by ``[redacted h:mm:ss-h:mm:ss]``
wherever it is served (page, API, exports, search index, passages, citations). A redaction
past its ``until`` date masks nothing (read time); the worker's duty ``lift_expired`` then
deletes it, which reindexes the interview and restores everything, without re-importing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from ..access import consent as terms
from ..access import now, policy, require
from ..access.policy import Viewer
from ..errors import Conflict, NotFound, ValidationError
from ..extensions import db
from ..models import Interview, Participant, Person, Redaction, ReleaseAgreement
from ..models.consent import AGREEMENT_STATUSES, PUBLICATION_SCOPES
from ..transcripts.timecode import format_timecode
from . import audit
from .fields import Fields

# --- the interview's consent columns, derived at every flush ------------------------------


def refresh_consent_dates(interview: Interview, *, ignore: Iterable[object] = ()) -> None:
    """Fold the participants' agreements into the interview's two consent columns."""
    ignored = set(map(id, ignore))
    closures: list[terms.Closure] = []
    for participant in interview.participants:
        agreement = participant.agreement
        if agreement is None or id(agreement) in ignored or id(participant) in ignored:
            continue
        closures += terms.agreement_closures(
            agreement, participant.role, participant.person.date_of_death
        )
    transcript, audio = terms.closing_dates(closures)
    if interview.consent_transcript_until != transcript:
        interview.consent_transcript_until = transcript
    if interview.consent_audio_until != audio:
        interview.consent_audio_until = audio


def _death_changed(person: Person) -> bool:
    return inspect(person).attrs.date_of_death.history.has_changes()


def _derive(session: Session, _context, _instances) -> None:
    touched: dict[int, Interview] = {}
    gone = list(session.deleted)

    def add(interview: Interview | None) -> None:
        if interview is not None and interview not in session.deleted:
            touched[id(interview)] = interview

    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, ReleaseAgreement):
            participant = obj.participant
            if participant is None and obj.participant_id is not None:
                participant = session.get(Participant, obj.participant_id)
            add(participant.interview if participant is not None else None)
        elif isinstance(obj, Participant):
            add(obj.interview)
        elif isinstance(obj, Person) and obj in session.dirty and _death_changed(obj):
            for participation in obj.participations:
                add(participation.interview)
    for interview in touched.values():
        refresh_consent_dates(interview, ignore=gone)


if not event.contains(Session, "before_flush", _derive):
    event.listen(Session, "before_flush", _derive)


# --- release agreements ----------------------------------------------------------------------


def _participant(interview: Interview, participant_id: int) -> Participant:
    for participant in interview.participants:
        if participant.id == participant_id:
            return participant
    raise NotFound(f"Interview {interview.id} has no participant {participant_id}.")


def require_manage(viewer: Viewer, interview: Interview) -> None:
    require(
        policy.can_manage_consent(viewer, interview),
        "Only archivists see and change release agreements and redactions.",
    )


def agreement_json(participant: Participant) -> dict[str, Any]:
    """A participant's agreement as the API gives it (archivists only)."""
    a = participant.agreement
    person = participant.person
    out: dict[str, Any] = {
        "participant_id": participant.id,
        "person_id": person.id,
        "person_name": person.name,
        "role": participant.role,
        "date_of_death": person.date_of_death.isoformat() if person.date_of_death else None,
        "status": "none",
        "signed_on": None,
        "publication": "full",
        "closed_until": None,
        "closed_years_after_death": None,
        "anonymise": False,
        "conditions": "",
        "form": None,
    }
    if a is not None:
        out.update(
            status=a.status,
            signed_on=a.signed_on.isoformat() if a.signed_on else None,
            publication=a.publication,
            closed_until=a.closed_until.isoformat() if a.closed_until else None,
            closed_years_after_death=a.closed_years_after_death,
            anonymise=a.anonymise,
            conditions=a.conditions,
            form=(
                {
                    "filename": a.form_filename,
                    "sha256": a.form_sha256,
                    "size": a.form_size,
                    "mime": a.form_mime,
                }
                if a.form_key
                else None
            ),
        )
    return out


def _date_value(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def save_agreement(
    viewer: Viewer, interview: Interview, participant_id: int, data: Any
) -> Participant:
    """Create or change one participant's agreement (fields as in ``agreement_json``;
    absent fields are kept). ``date_of_death`` is written on the person. Audited."""
    require_manage(viewer, interview)
    participant = _participant(interview, participant_id)
    fields = Fields(data, partial=True)
    fields.choice("status", AGREEMENT_STATUSES)
    fields.date("signed_on")
    fields.choice("publication", PUBLICATION_SCOPES)
    fields.date("closed_until")
    fields.integer("closed_years_after_death", minimum=0, maximum=200)
    fields.string("conditions", max_length=20000)
    fields.date("date_of_death")
    if fields.present("anonymise"):
        raw = fields.data.get("anonymise")
        if isinstance(raw, bool):
            fields.values["anonymise"] = raw
        elif isinstance(raw, str) and raw.lower() in ("1", "true", "on", "yes", "0", "false", ""):
            fields.values["anonymise"] = raw.lower() in ("1", "true", "on", "yes")
        else:
            fields.errors["anonymise"] = "must be true or false"
    values = fields.check()
    status = values.get("status", participant.agreement.status if participant.agreement else "none")
    signed_on = values.get(
        "signed_on", participant.agreement.signed_on if participant.agreement else None
    )
    if status == "signed" and signed_on is None:
        raise ValidationError(
            "A signed agreement needs the date it was signed (signed_on, YYYY-MM-DD).",
            fields={"signed_on": "is required when the status is signed"},
        )
    if signed_on is not None and signed_on > now().date():
        raise ValidationError(
            "signed_on is in the future.", fields={"signed_on": "must not be in the future"}
        )
    death = values.pop("date_of_death", participant.person.date_of_death)
    if death is not None and death > now().date():
        raise ValidationError(
            "date_of_death is in the future.", fields={"date_of_death": "must not be in the future"}
        )
    before = agreement_json(participant)
    agreement = participant.agreement
    if agreement is None:
        agreement = ReleaseAgreement(status="none", publication="full", anonymise=False)
        participant.agreement = agreement
    for key, value in values.items():
        setattr(agreement, key, value)
    agreement.updated_by_id = viewer.user_id
    if participant.person.date_of_death != death:
        participant.person.date_of_death = death
    db.session.flush()
    after = agreement_json(participant)
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changed:
        audit.record(
            viewer,
            "agreement.change",
            "interview",
            interview.id,
            participant_id=participant.id,
            changes=changed,
        )
    return participant


@dataclass(frozen=True)
class FormUpload:
    """The signed form as the web layer hands it over."""

    stream: Any
    filename: str


#: What a signed form may be: the attachment kinds the archive already validates.
FORM_MAX_BYTES = 100 * 1024 * 1024


def attach_form(
    viewer: Viewer, interview: Interview, participant_id: int, upload: FormUpload
) -> Participant:
    """Store the signed form (validated by content like a document's attachment, stored
    content-addressed, checked by ``oralhist fixity``); replaces an earlier one. Audited."""
    from .. import transaction
    from ..media.attachments import probe_attachment
    from ..media.storage import display_filename
    from .recordings import remove_unused_files, storage

    require_manage(viewer, interview)
    participant = _participant(interview, participant_id)
    name = display_filename(upload.filename)
    probed = []
    stored = storage().save_stream(
        upload.stream,
        max_bytes=FORM_MAX_BYTES,
        validate=lambda path: probed.append(probe_attachment(path, name)),
    )
    if stored.created:
        transaction.on_rollback(partial(remove_unused_files, [stored.key]))
    agreement = participant.agreement
    if agreement is None:
        agreement = ReleaseAgreement(status="none", publication="full", anonymise=False)
        participant.agreement = agreement
    old_key = agreement.form_key
    agreement.form_key = stored.key
    agreement.form_sha256 = stored.sha256
    agreement.form_size = stored.size
    agreement.form_mime = probed[0].mime
    agreement.form_filename = name
    agreement.updated_by_id = viewer.user_id
    db.session.flush()
    if old_key and old_key != stored.key:
        transaction.on_commit(partial(remove_unused_files, [old_key]))
    audit.record(
        viewer,
        "agreement.form",
        "interview",
        interview.id,
        participant_id=participant.id,
        sha256=stored.sha256,
    )
    return participant


def form_of(viewer: Viewer, interview: Interview, participant_id: int) -> ReleaseAgreement:
    """The agreement whose signed form an archivist downloads (audited)."""
    require_manage(viewer, interview)
    agreement = _participant(interview, participant_id).agreement
    if agreement is None or not agreement.form_key:
        raise NotFound("No signed form is stored for this participant.")
    audit.record(
        viewer, "agreement.form.read", "interview", interview.id, participant_id=participant_id
    )
    return agreement


def check_open_publication(interview: Interview, *, level: str, status: str) -> None:
    """Refuse an interview published open without every narrator's signed agreement (an
    archivist overrides with ``consent_override``, a reason)."""
    if (
        status == "published"
        and level == "open"
        and not terms.narrator_consented(interview)
        and not (interview.consent_override or "").strip()
    ):
        raise ConsentRequired(
            "An interview is published open only with a signed release agreement from every "
            "narrator. Record the agreement, choose another access level, or give a reason "
            "to publish it anyway (consent_override).",
            fields={"consent_override": "a reason is required to publish without consent"},
        )


class ConsentRequired(Conflict):
    """Publishing open needs every narrator's signed agreement (or an archivist's reason)."""

    code = "consent_required"


def set_override(viewer: Viewer, interview: Interview, reason: str) -> None:
    """Record (or clear, with "") the archivist's reason to publish without consent. Audited."""
    require_manage(viewer, interview)
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise ValidationError(
            "consent_override is too long (at most 2,000 characters).",
            fields={"consent_override": "too long"},
        )
    if reason != (interview.consent_override or ""):
        audit.record(
            viewer,
            "interview.consent_override",
            "interview",
            interview.id,
            before=interview.consent_override or "",
            after=reason,
        )
        interview.consent_override = reason


# --- redactions ------------------------------------------------------------------------------


def in_force(redaction: Redaction, today: dt.date) -> bool:
    return redaction.until is None or today < redaction.until


def active_redactions(interview: Interview, at: dt.datetime | None = None) -> list[Redaction]:
    """The interview's redactions in force (an ``until`` that has passed lifts it)."""
    today = policy.today_of(at or now())
    return [r for r in interview.redactions if in_force(r, today)]


def placeholder(start_ms: int, end_ms: int) -> str:
    return (
        f"[redacted {format_timecode(start_ms, style='hms')}-"
        f"{format_timecode(end_ms, style='hms')}]"
    )


@dataclass(frozen=True)
class Masks:
    """Time ranges to withhold, sorted; falsy when there are none."""

    spans: tuple[tuple[int, int], ...]

    def __bool__(self) -> bool:
        return bool(self.spans)

    def hit(self, start_ms: int | None, end_ms: int | None) -> tuple[int, int] | None:
        """The first span overlapping [start_ms, end_ms] (an untimed segment overlaps none)."""
        if start_ms is None:
            return None
        end = end_ms if end_ms is not None else start_ms
        for a, b in self.spans:
            if start_ms < b and end >= a and not (end == a and end > start_ms):
                return (a, b)
        return None

    def covers(self, ms: int | None) -> bool:
        return ms is not None and any(a <= ms < b for a, b in self.spans)

    def text(
        self, text: str, start_ms: int | None, end_ms: int | None, words: Sequence | None = None
    ) -> tuple[str, list | None]:
        """``text`` (and its packed word timings) with what overlaps a span replaced by
        placeholders: word by word when word times are known, else the whole segment."""
        span = self.hit(start_ms, end_ms)
        if span is None:
            return text, list(words) if words else words
        timed = [w for w in words or () if w[1] is not None and w[2] is not None]
        if not words or len(timed) != len(words):
            spans = [s for s in self.spans if self.hit_one(s, start_ms, end_ms)]
            return " ".join(placeholder(a, b) for a, b in spans), None
        out_words: list = []
        parts: list[str] = []
        last: tuple[int, int] | None = None
        for word in words:
            found = next((s for s in self.spans if word[1] < s[1] and word[2] > s[0]), None)
            if found is None:
                parts.append(str(word[0]))
                out_words.append(list(word))
                last = None
            elif found != last:
                parts.append(placeholder(*found))
                last = found
        return " ".join(parts), out_words or None

    @staticmethod
    def hit_one(span: tuple[int, int], start_ms: int, end_ms: int | None) -> bool:
        end = end_ms if end_ms is not None else start_ms
        return start_ms < span[1] and end > span[0]


def redaction_json(redaction: Redaction) -> dict[str, Any]:
    return {
        "id": redaction.id,
        "interview_id": redaction.interview_id,
        "start_ms": redaction.start_ms,
        "end_ms": redaction.end_ms,
        "reason": redaction.reason,
        "until": _date_value(redaction.until),
        "created_by_id": redaction.created_by_id,
        "created_at": redaction.created_at.isoformat() if redaction.created_at else None,
        "placeholder": placeholder(redaction.start_ms, redaction.end_ms),
    }


def list_redactions(viewer: Viewer, interview: Interview) -> list[Redaction]:
    require_manage(viewer, interview)
    return list(interview.redactions)


def _snap(interview: Interview, start_ms: int, end_ms: int) -> tuple[int, int]:
    """Widen the range to the word boundaries it cuts through, when word times are known
    (a word half inside a redaction is withheld whole, in text and in audio)."""
    from .transcript_versions import current_transcript

    transcript = current_transcript(interview)
    if transcript is None:
        return start_ms, end_ms
    from ..models import Segment

    rows = db.session.execute(
        select(Segment.words).where(
            transcript.holds(Segment),
            Segment.words.is_not(None),
            Segment.start_ms <= end_ms,
            Segment.end_ms >= start_ms,
        )
    )
    for (words,) in rows:
        for _text, a, b, *_ in words or ():
            if a is None or b is None:
                continue
            if a < start_ms < b:
                start_ms = a
            if a < end_ms < b:
                end_ms = b
    return start_ms, end_ms


def _range_values(interview: Interview, data: Any, current: Redaction | None) -> dict[str, Any]:
    fields = Fields(data, partial=current is not None)
    fields.integer("start_ms", required=current is None, minimum=0, maximum=2**31 - 1)
    fields.integer("end_ms", required=current is None, minimum=1, maximum=2**31 - 1)
    fields.string("reason", required=current is None or fields.present("reason"), max_length=2000)
    fields.date("until")
    values = fields.check()
    start = values.get("start_ms", current.start_ms if current else 0)
    end = values.get("end_ms", current.end_ms if current else 0)
    if end <= start:
        raise ValidationError(
            f"end_ms ({end}) must be after start_ms ({start}).",
            fields={"end_ms": "must be after start_ms"},
        )
    duration = interview.duration_ms
    if duration and start >= duration:
        raise ValidationError(
            f"start_ms ({start}) is past the end of the recordings ({duration} ms).",
            fields={"start_ms": "past the end of the recordings"},
        )
    until = values.get("until")
    if until is not None and until <= policy.today_of(now()):
        raise ValidationError(
            "until must be a date after today (a redaction lifts on that date).",
            fields={"until": "must be after today"},
        )
    start, end = _snap(interview, start, min(end, duration) if duration else end)
    values["start_ms"], values["end_ms"] = start, end
    return values


def add_redaction(viewer: Viewer, interview: Interview, data: Any) -> Redaction:
    """Withhold a time range from everyone but archivists. Audited."""
    require_manage(viewer, interview)
    values = _range_values(interview, data, None)
    redaction = Redaction(
        interview=interview,
        start_ms=values["start_ms"],
        end_ms=values["end_ms"],
        reason=values["reason"],
        until=values.get("until"),
        created_by_id=viewer.user_id,
    )
    db.session.add(redaction)
    db.session.flush()
    _renew_audio(interview, viewer)
    audit.record(viewer, "redaction.add", "interview", interview.id, **redaction_json(redaction))
    return redaction


def get_redaction(viewer: Viewer, redaction_id: int) -> Redaction:
    redaction = db.session.get(Redaction, redaction_id)
    if redaction is None or not policy.can_manage_consent(viewer, redaction.interview):
        raise NotFound(f"There is no redaction {redaction_id}.")
    return redaction


def change_redaction(viewer: Viewer, redaction: Redaction, data: Any) -> Redaction:
    """Change a redaction's range, reason or date. Audited with before and after."""
    interview = redaction.interview
    require_manage(viewer, interview)
    before = redaction_json(redaction)
    values = _range_values(interview, data, redaction)
    for key, value in values.items():
        setattr(redaction, key, value)
    db.session.flush()
    _renew_audio(interview, viewer)
    after = redaction_json(redaction)
    audit.record(
        viewer,
        "redaction.change",
        "interview",
        interview.id,
        redaction_id=redaction.id,
        changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
    )
    return redaction


def lift_redaction(viewer: Viewer | None, redaction: Redaction, *, why: str = "") -> None:
    """Lift a redaction: the text, index and audio are whole again. Audited (``viewer``
    None: lifted by its date, by the worker)."""
    interview = redaction.interview
    if viewer is not None:
        require_manage(viewer, interview)
    record = redaction_json(redaction)
    interview.redactions.remove(redaction)
    db.session.flush()
    if interview.redactions:
        _renew_audio(interview, viewer)
    audit.record(viewer, "redaction.lift", "interview", interview.id, why=why, **record)


def _renew_audio(interview: Interview, viewer: Viewer | None) -> None:
    """The redactions changed: queue the making of the silenced audio copies."""
    from .redacted_audio import request_copies

    request_copies(interview, viewer)


def lift_expired(at: dt.datetime | None = None) -> int:
    """Delete the redactions whose ``until`` has passed (a worker duty; the caller
    commits). Reading already ignores them; this reindexes and renews the audio."""
    today = policy.today_of(at or now())
    expired = db.session.scalars(
        select(Redaction).where(Redaction.until.is_not(None), Redaction.until <= today)
    ).all()
    for redaction in expired:
        lift_redaction(None, redaction, why=f"its date ({redaction.until}) passed")
    return len(expired)


def redactions_hash(spans: Iterable[tuple[int, int]]) -> str:
    """A stable digest of the spans (the redacted audio is keyed by it)."""
    import hashlib

    text = ";".join(f"{a}-{b}" for a, b in sorted(spans))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- what one reader is shown ----------------------------------------------------------------


class Anonymiser:
    """Replaces anonymised participants' names with their labels in free text: the full name,
    then each capitalised part of three letters or more ("Whitfield" in "Mr Whitfield said"),
    case-insensitively, as whole words."""

    def __init__(self, names: dict[str, str]) -> None:
        import re

        pairs: dict[str, str] = {}
        for name, label in names.items():
            name = name.strip()
            if not name:
                continue
            pairs.setdefault(name.lower(), label)
            for part in re.findall(r"[^\W\d_][\w'’-]*", name):
                if len(part) >= 3 and part[:1].isupper():
                    pairs.setdefault(part.lower(), label)
        self._labels = pairs
        self._pattern = (
            re.compile(
                r"(?<!\w)("
                + "|".join(re.escape(k) for k in sorted(pairs, key=len, reverse=True))
                + r")(?!\w)",
                re.IGNORECASE,
            )
            if pairs
            else None
        )

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __call__(self, text: str | None) -> str | None:
        if not text or self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self._labels[m.group(1).lower()], text)


@dataclass(frozen=True)
class Redactor:
    """Everything one reader must not see of one interview: redacted spans and anonymised
    names (``person_labels``: person id -> label). Falsy when it withholds nothing."""

    masks: Masks
    person_labels: dict[int, str]
    anonymise: Anonymiser

    def __bool__(self) -> bool:
        return bool(self.masks) or bool(self.person_labels)

    def name(self, person_id: int | None, name: str) -> str:
        """A person's or speaker's name as this reader sees it."""
        if person_id is not None and person_id in self.person_labels:
            return self.person_labels[person_id]
        return self.anonymise(name) or name

    def segment(
        self, text: str, start_ms: int | None, end_ms: int | None, words: Sequence | None = None
    ) -> tuple[str, list | None, bool]:
        """``(text, words, masked)`` of one segment as this reader sees it."""
        masked_text, masked_words = self.masks.text(text, start_ms, end_ms, words)
        masked = masked_text != text
        if self.anonymise:
            masked_text = self.anonymise(masked_text) or ""
            if masked_words:
                masked_words = [[self.anonymise(str(w[0])), *w[1:]] for w in masked_words]
        return masked_text, masked_words, masked

    def point_text(self, start_ms: int | None, text: str | None) -> str | None:
        """An index point's text: its placeholder when the point falls in a redaction."""
        span = self.masks.hit(start_ms, start_ms)
        if span is not None and text:
            return placeholder(*span)
        return self.anonymise(text)


NO_REDACTION = Redactor(Masks(()), {}, Anonymiser({}))


def public_redactor(interview: Interview, at: dt.datetime | None = None) -> Redactor:
    """What everyone but archivists is shown (the search index's public part too)."""
    labels = terms.anonymised_labels(interview)
    names = {
        p.person.name: labels[p.person_id] for p in interview.participants if p.person_id in labels
    }
    return Redactor(
        Masks(tuple((r.start_ms, r.end_ms) for r in active_redactions(interview, at))),
        labels,
        Anonymiser(names),
    )


def redactor_for(viewer: Viewer, interview: Interview, at: dt.datetime | None = None) -> Redactor:
    """What ``viewer`` is shown of ``interview``: everything for archivists."""
    if policy.sees_unredacted(viewer):
        return NO_REDACTION
    return public_redactor(interview, at)


class _Shown:
    """An object seen through a proxy: some attributes replaced, the rest its own."""

    def __init__(self, real: Any, **shown: Any) -> None:
        self._real = real
        self.__dict__.update(shown)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def public_view(interview: Interview, redactor: Redactor) -> Any:
    """``interview`` as a reader who may not know anonymised names sees it: title, summary
    and place with the names replaced, participants' names as their labels (``anonymised``
    True: the page shows the label without a link to the person)."""
    if not redactor.person_labels:
        return interview
    participants = [
        _Shown(
            p,
            person=_Shown(p.person, name=redactor.person_labels[p.person_id], anonymised=True),
        )
        if p.person_id in redactor.person_labels
        else p
        for p in interview.participants
    ]
    return _Shown(
        interview,
        title=redactor.anonymise(interview.title),
        summary=redactor.anonymise(interview.summary),
        place=redactor.anonymise(interview.place),
        **anonymised_record_text(interview, redactor),
        participants=participants,
    )


def anonymised_record_text(interview: Interview, redactor: Redactor) -> dict[str, Any]:
    """The catalogue's other free text (usage, funding, subjects, keywords) with anonymised
    names replaced, for every reader who may not know them (page, API, exports, OAI)."""
    return {
        "usage": redactor.anonymise(interview.usage),
        "funding": redactor.anonymise(interview.funding),
        "subjects": [redactor.anonymise(t) or t for t in interview.subjects or ()],
        "keywords": [redactor.anonymise(t) or t for t in interview.keywords or ()],
    }


def shown_interviews(viewer: Viewer, interviews: Sequence[Interview]) -> list[Any]:
    """A list of interviews as ``viewer`` sees them (``public_view``): for everyone but
    archivists, anonymised names replaced in titles, summaries and participants. One query
    finds which of them have an anonymised participant (the rest are shown as they are)."""
    interviews = list(interviews)
    if policy.sees_unredacted(viewer) or not interviews:
        return interviews
    ids = {i.id for i in interviews}
    anonymised = set(
        db.session.scalars(
            select(Participant.interview_id)
            .join(ReleaseAgreement, ReleaseAgreement.participant_id == Participant.id)
            .where(Participant.interview_id.in_(ids), ReleaseAgreement.anonymise.is_(True))
        )
    )
    if not anonymised:
        return interviews
    from sqlalchemy.orm import selectinload

    # their participants, people and agreements in three queries, not per interview
    db.session.scalars(
        select(Interview)
        .where(Interview.id.in_(anonymised))
        .options(
            selectinload(Interview.participants).selectinload(Participant.person),
            selectinload(Interview.participants).selectinload(Participant.agreement),
        )
    ).all()
    return [public_view(i, name_redactor(i)) if i.id in anonymised else i for i in interviews]


def name_redactor(interview: Interview) -> Redactor:
    """``public_redactor`` without the redactions: what a list, which shows no transcript
    text, needs to replace anonymised names (one query fewer per interview)."""
    labels = terms.anonymised_labels(interview)
    names = {
        p.person.name: labels[p.person_id] for p in interview.participants if p.person_id in labels
    }
    return Redactor(Masks(()), labels, Anonymiser(names))


def shown_title(viewer: Viewer, interview: Interview) -> str:
    """``interview``'s title as ``viewer`` may see it: anonymised names replaced by their
    labels for everyone but archivists (every page that names an interview uses this or
    ``shown_interviews``: lists, queues, requests, passages, the editor's pages)."""
    if policy.sees_unredacted(viewer):
        return interview.title
    redactor = name_redactor(interview)
    if not redactor.person_labels:
        return interview.title
    return redactor.anonymise(interview.title) or ""


def title_for(user: Any, interview: Interview) -> str:
    """``shown_title`` for a user account (notifications and mails name the interview as
    their recipient may see it)."""
    from ..access import load_viewer

    return shown_title(load_viewer(user), interview)


def public_speaker(speaker: Any, redactor: Redactor) -> Any:
    """A speaker as ``redactor``'s reader sees it: an anonymised person's speaker shows the
    label in place of its name, file label and linked person."""
    if not redactor:
        return speaker
    shown = redactor.name(speaker.person_id, speaker.name)
    if shown == speaker.name and speaker.person_id not in redactor.person_labels:
        return speaker
    return _Shown(speaker, name=shown, label=shown, display_name=shown, person=None, person_id=None)
