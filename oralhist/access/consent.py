"""What the participants' release agreements allow: pure functions of the agreements, the
people's dates of death and the date.

Each agreement may close the transcript, the audio or both, until a date or indefinitely;
the access policy takes the most restrictive of every agreement, the access level and the
embargo (``policy.material_open``). The closing dates are folded into two columns of the
interview (``consent_transcript_until``, ``consent_audio_until``; ``FOREVER`` when
indefinite) by ``services.consent`` whenever an agreement, a participant or a date of death
changes, so that the list filters (``clauses``) and the search index compare them with the
day as the embargo is compared: a date that passes lifts the closure by itself, at read time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: "Closed indefinitely": later than any real date, and a valid date on every database.
FOREVER = dt.date(9999, 12, 31)

ROLE_NOUNS = {"interviewee": "narrator", "interviewer": "interviewer", "other": "participant"}
ROLE_LABELS = {"interviewee": "Narrator", "interviewer": "Interviewer", "other": "Participant"}


@dataclass(frozen=True)
class Closure:
    """One agreement's restriction of one kind of material."""

    transcript_until: dt.date | None
    audio_until: dt.date | None
    reason: str


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` ``years`` later (29 February becomes 28 February in a common year)."""
    try:
        return day.replace(year=min(day.year + years, FOREVER.year))
    except ValueError:
        return day.replace(year=min(day.year + years, FOREVER.year), day=28)


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def agreement_closures(agreement, role: str, date_of_death: dt.date | None) -> list[Closure]:
    """The restrictions one agreement imposes, whatever the date (a closure until a date
    that has passed restricts nothing: callers compare with the day)."""
    who = f"the {ROLE_NOUNS.get(role, 'participant')}"
    status = agreement.status
    if status == "declined":
        return [Closure(FOREVER, FOREVER, f"Closed: {who} declined the release agreement.")]
    if status == "withdrawn":
        return [Closure(FOREVER, FOREVER, f"Closed: {who} withdrew consent.")]
    if status != "signed":
        return []
    out: list[Closure] = []
    scope = agreement.publication
    if scope == "none":
        out.append(Closure(FOREVER, FOREVER, f"Not available online, at {who}'s request."))
    elif scope == "transcript_only":
        out.append(Closure(None, FOREVER, f"The audio is not published, at {who}'s request."))
    elif scope == "audio_only":
        out.append(Closure(FOREVER, None, f"The transcript is not published, at {who}'s request."))
    if agreement.closed_until is not None:
        day = agreement.closed_until
        out.append(Closure(day, day, f"Closed until {_long(day)} at {who}'s request."))
    years = agreement.closed_years_after_death
    if years is not None:
        if date_of_death is None:
            out.append(
                Closure(
                    FOREVER,
                    FOREVER,
                    f"Closed until {years} years after the death of {who}, at {who}'s request.",
                )
            )
        else:
            day = add_years(date_of_death, years)
            out.append(
                Closure(
                    day,
                    day,
                    f"Closed until {_long(day)} ({years} years after the death of {who}) at "
                    f"{who}'s request.",
                )
            )
    return out


def interview_closures(interview) -> list[Closure]:
    """Every participant's closures (agreements are read through ``participants``)."""
    out: list[Closure] = []
    for participant in interview.participants:
        agreement = participant.agreement
        if agreement is not None:
            out += agreement_closures(agreement, participant.role, participant.person.date_of_death)
    return out


def closing_dates(closures: list[Closure]) -> tuple[dt.date | None, dt.date | None]:
    """The latest closing date of the transcript and of the audio (None: not closed)."""
    transcript = max((c.transcript_until for c in closures if c.transcript_until), default=None)
    audio = max((c.audio_until for c in closures if c.audio_until), default=None)
    return transcript, audio


def reasons_in_force(closures: list[Closure], today: dt.date) -> list[str]:
    """The plain sentences of the closures that restrict something on ``today``."""
    return [
        c.reason
        for c in closures
        if (c.transcript_until and today < c.transcript_until)
        or (c.audio_until and today < c.audio_until)
    ]


def narrator_consented(interview) -> bool:
    """Every narrator (interviewee) has a signed agreement (no narrator: nothing to sign)."""
    return all(
        p.agreement is not None and p.agreement.status == "signed"
        for p in interview.participants
        if p.role == "interviewee"
    )


def anonymised_labels(interview) -> dict[int, str]:
    """``{person id: "Narrator A"}`` for the participants whose agreement asks to be
    anonymised: a stable label per role, lettered by position among the interview's
    participants of that role (so the label never depends on the name)."""
    labels: dict[int, str] = {}
    counters: dict[str, int] = {}
    for participant in interview.participants:
        n = counters.get(participant.role, 0)
        counters[participant.role] = n + 1
        agreement = participant.agreement
        if agreement is not None and agreement.anonymise:
            letter = chr(ord("A") + n) if n < 26 else str(n + 1)
            labels[participant.person_id] = (
                f"{ROLE_LABELS.get(participant.role, 'Participant')} {letter}"
            )
    return labels
