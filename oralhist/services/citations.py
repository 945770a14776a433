"""Citations for any moment or range of an interview, in the styles historians are asked for.

The Oral History Association's citation guidance follows the Chicago Manual of Style
(17th ed., 14.219, interviews and personal communications; unpublished interviews held in
an archive): narrator, "interview by" the interviewer, date, place, the collection and the
repository, then where to find it, here a permalink that opens the player at the moment
(``?t=...&end=...`` to the millisecond). MLA (9th ed.) puts the narrator first, "Interview
by", the collection as container, the date, the repository and the URL; time stamps go in
the in-text citation, "(Whitfield 0:01:02–0:01:30)". Only the public catalogue record is
used, so a citation never tells more than the record does; what is missing is left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Interview, Person
from ..transcripts.timecode import format_timecode
from ..urls import moment_url

MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
#: MLA abbreviates months of more than four letters (MLA Handbook 9th ed., appendix 1).
MLA_MONTHS = [
    "Jan.", "Feb.", "Mar.", "Apr.", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec.",
]  # fmt: skip


@dataclass(frozen=True)
class Citation:
    """One moment (``end_ms`` None) or range of an interview, cited."""

    start_ms: int
    end_ms: int | None
    url: str
    chicago_note: str
    chicago_bibliography: str
    mla: str
    mla_in_text: str

    def as_json(self) -> dict:
        return {
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "url": self.url,
            "chicago_note": self.chicago_note,
            "chicago_bibliography": self.chicago_bibliography,
            "mla": self.mla,
            "mla_in_text": self.mla_in_text,
        }


def _date_parts(value: str | None) -> tuple[int, int | None, int | None] | None:
    """A partial date ``1957``, ``1957-03`` or ``1957-03-12`` -> (year, month, day)."""
    if not value:
        return None
    try:
        numbers = [int(p) for p in value.split("-")[:3]]
    except ValueError:
        return None
    year, month, day = [*numbers, None, None][:3]
    if month is not None and not 1 <= month <= 12:
        return (year, None, None)
    return (year, month, day)


def chicago_date(value: str | None) -> str:
    """``1957-03-12`` -> "March 12, 1957"; ``1957-03`` -> "March 1957"; ``1957``."""
    parts = _date_parts(value)
    if parts is None:
        return value or ""
    year, month, day = parts
    if month is None:
        return str(year)
    if day is None:
        return f"{MONTHS[month - 1]} {year}"
    return f"{MONTHS[month - 1]} {day}, {year}"


def mla_date(value: str | None) -> str:
    """``1957-03-12`` -> "12 Mar. 1957"; ``1957-03`` -> "Mar. 1957"; ``1957``."""
    parts = _date_parts(value)
    if parts is None:
        return value or ""
    year, month, day = parts
    if month is None:
        return str(year)
    if day is None:
        return f"{MLA_MONTHS[month - 1]} {year}"
    return f"{day} {MLA_MONTHS[month - 1]} {year}"


def inverted(person: Person) -> str:
    """ "Whitfield, Thomas": the sort name when the record has one, else the last word of
    the name first (a one-word name stays as it is)."""
    if person.sort_name:
        return person.sort_name
    words = person.name.split()
    if len(words) < 2:
        return person.name
    return f"{words[-1]}, {' '.join(words[:-1])}"


def _names(people: list[Person]) -> str:
    names = [p.name for p in people]
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + ", and " + names[-1]


def _surname(person: Person) -> str:
    return inverted(person).split(",")[0]


def _sentence(*parts: str, sep: str = ", ") -> str:
    return sep.join(p for p in parts if p)


def _end(text: str) -> str:
    """Close a citation element with one period (a URL or "Jr." keeps its own)."""
    text = text.rstrip()
    return text if text.endswith((".", "?", "!")) else text + "."


def hms(ms: int) -> str:
    """Interview time as the site shows it everywhere: ``0:01:02``."""
    return format_timecode(max(0, ms), style="hms")


def time_range(start_ms: int, end_ms: int | None) -> str:
    """ "0:01:02" or "0:01:02–0:01:30"."""
    return hms(start_ms) if end_ms is None else f"{hms(start_ms)}–{hms(end_ms)}"


def cite(interview: Interview, start_ms: int, end_ms: int | None, *, archive: str) -> Citation:
    """The citations of ``interview`` from ``start_ms`` (to ``end_ms``, when a range),
    with ``archive`` as the repository's name and the archive's public permalink."""
    url = moment_url(interview.id, start_ms, end_ms=end_ms, external=True)
    narrators = interview.people_in_role("interviewee")
    interviewers = interview.people_in_role("interviewer")
    collection = interview.collection.title if interview.collection is not None else ""
    by = f"interview by {_names(interviewers)}" if interviewers else "interview"
    when = time_range(start_ms, end_ms)

    quoted = f"“{interview.title.rstrip('.')}.”" if interview.title else ""
    if narrators:
        note_head = _sentence(_names(narrators), by)
        bib_head = _end(inverted(narrators[0]))
        if len(narrators) > 1:
            bib_head = _end(inverted(narrators[0]) + ", and " + _names(narrators[1:]))
    else:
        # No narrator on record: the title leads, as for an anonymous work.
        note_head = f"“{interview.title.rstrip('.')},” {by}" if interview.title else by
        bib_head = ""
    note = _sentence(
        note_head,
        chicago_date(interview.date_recorded),
        interview.place or "",
        interview.accession,
        collection,
        archive,
        when,
        url,
    )
    bibliography = " ".join(
        p
        for p in [
            bib_head,
            quoted,
            _end(by[0].upper() + by[1:]),
            _end(_sentence(chicago_date(interview.date_recorded), interview.place or "")),
            _end(interview.accession),
            _end(collection) if collection else "",
            _end(archive) if archive else "",
            url,
        ]
        if p and p != "."
    )
    mla_by = f"Interview by {_names(interviewers)}." if interviewers else "Interview."
    container = _sentence(collection, mla_date(interview.date_recorded), archive, url)
    mla = " ".join(p for p in [bib_head, quoted, mla_by, _end(container)] if p)
    who = _surname(narrators[0]) if narrators else f"“{interview.title}”"
    mla_in_text = f"({who} {when})"
    return Citation(
        start_ms=start_ms,
        end_ms=end_ms,
        url=url,
        chicago_note=_end(note),
        chicago_bibliography=bibliography,
        mla=mla,
        mla_in_text=mla_in_text,
    )
