"""The policy over agreements x levels x embargo x dates: pure functions, no database.

Each row: an interview's level and embargo, one agreement (or none) and a date of death, the
day it is read, and what a signed-in researcher may do (read the transcript, listen); the
archivist and the depositor may always. The consent columns are derived exactly as the flush
listener derives them (``services.consent.refresh_consent_dates``).
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from oralhist.access import consent as terms
from oralhist.access import policy
from oralhist.access.policy import Viewer

RESEARCHER = Viewer(user_id=2, role="researcher")
ARCHIVIST = Viewer(user_id=9, role="archivist")
OWNER = Viewer(user_id=5, role="contributor")
ANONYMOUS = policy.ANONYMOUS


def day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def agreement(status="signed", **terms_):
    values = dict(
        status=status,
        publication="full",
        closed_until=None,
        closed_years_after_death=None,
        anonymise=False,
    )
    values.update(terms_)
    return SimpleNamespace(**values)


def interview(level="open", embargo=None, agreements=(), died=None):
    participants = [
        SimpleNamespace(
            role=role,
            person_id=n + 1,
            agreement=a,
            person=SimpleNamespace(id=n + 1, name=f"Person {n}", date_of_death=died),
        )
        for n, (role, a) in enumerate(agreements)
    ]
    found = SimpleNamespace(
        id=1,
        status="published",
        access_level=level,
        embargo_until=dt.date.fromisoformat(embargo) if embargo else None,
        created_by_id=5,
        participants=participants,
        consent_transcript_until=None,
        consent_audio_until=None,
    )
    transcript, audio = terms.closing_dates(terms.interview_closures(found))
    found.consent_transcript_until, found.consent_audio_until = transcript, audio
    return found


N = "interviewee"
I = "interviewer"  # noqa: E741

# (level, embargo, [(role, agreement)], died, today, researcher reads, researcher listens)
TABLE = [
    ("open", None, [], None, "2026-12-06", True, True),
    ("open", None, [(N, agreement("none"))], None, "2026-12-06", True, True),
    ("open", None, [(N, agreement("requested"))], None, "2026-12-06", True, True),
    ("open", None, [(N, agreement())], None, "2026-12-06", True, True),
    ("open", None, [(N, agreement("declined"))], None, "2026-12-06", False, False),
    ("open", None, [(N, agreement("withdrawn"))], None, "2026-12-06", False, False),
    ("open", None, [(N, agreement(publication="none"))], None, "2026-12-06", False, False),
    (
        "open",
        None,
        [(N, agreement(publication="transcript_only"))],
        None,
        "2026-12-06",
        True,
        False,
    ),
    ("open", None, [(N, agreement(publication="audio_only"))], None, "2026-12-06", False, True),
    # closed until a date: closed before it, open from it (the date passing lifts it)
    (
        "open",
        None,
        [(N, agreement(closed_until=dt.date(2031, 1, 1)))],
        None,
        "2030-12-31",
        False,
        False,
    ),
    (
        "open",
        None,
        [(N, agreement(closed_until=dt.date(2031, 1, 1)))],
        None,
        "2031-01-01",
        True,
        True,
    ),
    # N years after death: indefinitely while the date of death is unknown
    ("open", None, [(N, agreement(closed_years_after_death=25))], None, "2090-01-01", False, False),
    (
        "open",
        None,
        [(N, agreement(closed_years_after_death=25))],
        dt.date(2000, 2, 29),
        "2025-02-27",
        False,
        False,
    ),
    (
        "open",
        None,
        [(N, agreement(closed_years_after_death=25))],
        dt.date(2000, 2, 29),
        "2025-02-28",
        True,
        True,
    ),
    # the most restrictive of level, embargo and every agreement
    ("restricted", None, [(N, agreement())], None, "2026-12-06", False, False),
    (
        "registered",
        None,
        [(N, agreement(publication="transcript_only"))],
        None,
        "2026-12-06",
        True,
        False,
    ),
    (
        "open",
        "2032-01-01",
        [(N, agreement(closed_until=dt.date(2031, 1, 1)))],
        None,
        "2031-06-01",
        False,
        False,
    ),
    (
        "open",
        "2030-01-01",
        [(N, agreement(closed_until=dt.date(2031, 1, 1)))],
        None,
        "2030-06-01",
        False,
        False,
    ),
    (
        "open",
        None,
        [(N, agreement()), (I, agreement("withdrawn"))],
        None,
        "2026-12-06",
        False,
        False,
    ),
    (
        "open",
        None,
        [(N, agreement(publication="audio_only")), (I, agreement(publication="transcript_only"))],
        None,
        "2026-12-06",
        False,
        False,
    ),
    ("closed", None, [(N, agreement())], None, "2026-12-06", False, False),
]


@pytest.mark.parametrize("level,embargo,agreements,died,today,reads,listens", TABLE)
def test_policy_table(level, embargo, agreements, died, today, reads, listens):
    found = interview(level, embargo, agreements, died)
    at = day(today)
    assert policy.can_read_transcript(RESEARCHER, found, at) is reads
    assert policy.can_listen(RESEARCHER, found, at) is listens
    if not listens:
        assert policy.can_download_master(RESEARCHER, found, at) is False
        assert (
            policy.audio_delivery(
                RESEARCHER, found, at, download=False, ranged=True, listen_only_range_bytes=1
            ).allowed
            is False
        )
    # archivists and the depositor keep their access whatever the agreements say
    for who in (ARCHIVIST, OWNER):
        assert policy.can_read_transcript(who, found, at)
        assert policy.can_listen(who, found, at)
    # anonymous readers never get more than a signed-in researcher
    assert not (policy.can_read_transcript(ANONYMOUS, found, at) and not reads)


def test_the_index_holds_the_later_of_embargo_and_agreement():
    found = interview("open", "2030-01-01", [(N, agreement(closed_until=dt.date(2031, 1, 1)))])
    assert policy.index_embargo(found) == dt.date(2031, 1, 1)
    found = interview("open", None, [(N, agreement("withdrawn"))])
    assert policy.index_embargo(found) == terms.FOREVER
    assert policy.index_embargo(interview("open")) is None


@pytest.mark.parametrize(
    "agreement_,died,today,expected",
    [
        (
            agreement(closed_until=dt.date(2031, 3, 1)),
            None,
            "2026-12-06",
            "Closed until 1 March 2031 at the narrator's request.",
        ),
        (
            agreement(closed_years_after_death=25),
            dt.date(2010, 5, 4),
            "2026-12-06",
            "Closed until 4 May 2035 (25 years after the death of the narrator) at the "
            "narrator's request.",
        ),
        (
            agreement(closed_years_after_death=25),
            None,
            "2026-12-06",
            "Closed until 25 years after the death of the narrator, at the narrator's request.",
        ),
        (agreement("withdrawn"), None, "2026-12-06", "Closed: the narrator withdrew consent."),
        (
            agreement(publication="transcript_only"),
            None,
            "2026-12-06",
            "The audio is not published, at the narrator's request.",
        ),
    ],
)
def test_the_reason_in_plain_words(agreement_, died, today, expected):
    found = interview("open", None, [(N, agreement_)], died)
    assert expected in policy.level_sentence(found, day(today))


def test_one_kind_closed_says_how_the_other_is_available():
    found = interview("registered", None, [(N, agreement(publication="transcript_only"))])
    assert policy.level_sentence(found, day("2026-12-06")) == (
        "The audio is not published, at the narrator's request. "
        "The transcript is available to signed-in researchers."
    )


def test_a_date_that_passed_says_nothing_more():
    found = interview("open", None, [(N, agreement(closed_until=dt.date(2031, 1, 1)))])
    assert policy.level_sentence(found, day("2031-01-02")) == policy.LEVEL_SENTENCES["open"]


def test_narrator_consent_and_labels():
    assert terms.narrator_consented(interview("open", None, [(N, agreement())]))
    assert not terms.narrator_consented(interview("open", None, [(N, agreement("requested"))]))
    assert not terms.narrator_consented(interview("open", None, [(N, None)]))
    assert terms.narrator_consented(interview("open", None, [(I, None)]))
    two = interview(
        "open",
        None,
        [(N, agreement(anonymise=True)), (N, agreement()), (I, agreement(anonymise=True))],
    )
    assert terms.anonymised_labels(two) == {1: "Narrator A", 3: "Interviewer A"}


def test_add_years_on_29_february():
    assert terms.add_years(dt.date(2000, 2, 29), 1) == dt.date(2001, 2, 28)
    assert terms.add_years(dt.date(2000, 2, 29), 4) == dt.date(2004, 2, 29)
