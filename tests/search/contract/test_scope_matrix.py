"""Every role against every access level, status and embargo: a backend shows an interview's
words (moments, snippets, totals, the speaker facet, the in-interview search, "did you mean")
exactly when the access policy lets the viewer read its transcript, and its catalogue record
exactly when the policy lets the viewer see the record. Scopes are built by the policy
itself (``policy.search_scope``), so the index and the pages cannot disagree."""

from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace

import pytest

from oralhist.access import policy
from oralhist.access.policy import Grant, Viewer
from oralhist.search import InterviewGroup
from oralhist.search.scope import day_number

from ..conftest import document, interview
from .conftest import open_test_backend

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
LEVELS = ("open", "registered", "restricted", "closed")
STATUSES = ("published", "draft")
EMBARGOES = {"none": None, "running": dt.date(2040, 1, 1), "ended": dt.date(2020, 1, 1)}
OWNERS = {"owner": 50, "other": 99}  # created_by: the contributor below, or somebody else
LETTERS = "bcdfghjklmnpqrstvwxz"


def marker(n: int) -> str:
    """A made-up word no other interview says, that stemming leaves alone."""
    return "qv" + LETTERS[n // len(LETTERS)] + "o" + LETTERS[n % len(LETTERS)] + "ak"


CASES = [
    {
        "iid": 100 + n,
        "level": level,
        "status": status,
        "embargo": embargo,
        "owner": owner,
        "word": marker(n),
        "speaker": f"Teller {marker(n).replace('qv', 'wj').capitalize()}",
    }
    for n, (level, status, embargo, owner) in enumerate(
        itertools.product(LEVELS, STATUSES, EMBARGOES, OWNERS)
    )
]
RESTRICTED_IIDS = frozenset(c["iid"] for c in CASES if c["level"] == "restricted")
EXPIRED = NOW - dt.timedelta(days=1)

VIEWERS = {
    "anonymous": Viewer(),
    "researcher": Viewer(user_id=40, role="researcher"),
    "granted researcher": Viewer(
        user_id=41,
        role="researcher",
        grants={iid: Grant(request_id=iid, scope="listen") for iid in RESTRICTED_IIDS},
    ),
    "expired grant": Viewer(
        user_id=42,
        role="researcher",
        grants={iid: Grant(iid, "listen", expires_at=EXPIRED) for iid in RESTRICTED_IIDS},
    ),
    "contributor (depositor)": Viewer(
        user_id=50,
        role="contributor",
        own_interview_ids=frozenset(c["iid"] for c in CASES if c["owner"] == "owner"),
    ),
    "other contributor": Viewer(user_id=51, role="contributor"),
    "archivist": Viewer(user_id=60, role="archivist"),
    "admin": Viewer(user_id=70, role="admin"),
}
DOCUMENT_LEVELS = {level: 500 + n for n, level in enumerate(LEVELS)}


def as_interview(case: dict) -> SimpleNamespace:
    """What the policy reads of an interview."""
    return SimpleNamespace(
        id=case["iid"],
        access_level=case["level"],
        status=case["status"],
        embargo_until=EMBARGOES[case["embargo"]],
        created_by_id=OWNERS[case["owner"]],
    )


def case_id(case: dict) -> str:
    return f"{case['level']}-{case['status']}-embargo {case['embargo']}-{case['owner']}"


@pytest.fixture(scope="module")
def matrix_index(tmp_path_factory, backend_name):
    backend = open_test_backend(backend_name, tmp_path_factory.mktemp(f"matrix-{backend_name}"))
    interviews = [
        interview(
            c["iid"],
            [
                (c["speaker"], f"She remembered the {c['word']} at the works."),
                ("Interviewer", f"And after the {c['word']}?"),
            ],
            title=f"Record {c['word']}cat",
            narrators=(c["speaker"],),
            access_level=c["level"],
            status=c["status"],
            embargo_until=day_number(EMBARGOES[c["embargo"]]),
            owner_id=OWNERS[c["owner"]],
        )
        for c in CASES
    ]
    documents = [
        document(did, f"Paper {level}", f"The {level}docword paper.", access_level=level)
        for level, did in DOCUMENT_LEVELS.items()
    ]
    backend.rebuild(interviews, documents)
    yield backend
    backend.close()


@pytest.mark.parametrize("viewer_name", list(VIEWERS))
def test_words_are_found_exactly_when_the_policy_lets_the_viewer_read(matrix_index, viewer_name):
    viewer = VIEWERS[viewer_name]
    scope = policy.search_scope(viewer, NOW)
    wrong = []
    for case in CASES:
        readable = policy.can_read_transcript(viewer, as_interview(case), NOW)
        word, iid = case["word"], case["iid"]
        results = matrix_index.search(word, scope)
        moments = [m for g in results.groups if isinstance(g, InterviewGroup) for m in g.moments]
        shown = {
            "total_moments": results.total_moments,
            "moments": len(moments),
            "marked": sum("<mark>" in m.snippet_html for m in moments),
            "speaker facet": dict(results.facets["speaker"]).get(case["speaker"], 0),
            "in-interview": len(matrix_index.search_interview(iid, word, scope)),
        }
        expected = dict.fromkeys(shown, 2 if readable else 0)
        expected["speaker facet"] = 1 if readable else 0
        expected["in-interview"] = 2 if readable else 0
        if shown != expected:
            wrong.append((case_id(case), shown, expected))
        if not readable:
            for misspelt in (word[:-1] + "x", word[:-1] + "~"):
                found = matrix_index.search(misspelt, scope)
                if found.total_moments or word in (found.suggestion or ""):
                    wrong.append((case_id(case), misspelt, found.suggestion))
            if word in (matrix_index.suggest(word[:-1] + "x", scope) or ""):
                wrong.append((case_id(case), "suggest()"))
    assert wrong == []


@pytest.mark.parametrize("viewer_name", list(VIEWERS))
def test_catalogue_records_are_found_exactly_when_the_policy_shows_them(matrix_index, viewer_name):
    viewer = VIEWERS[viewer_name]
    scope = policy.search_scope(viewer, NOW)
    wrong = []
    for case in CASES:
        visible = policy.can_view_record(viewer, as_interview(case))
        results = matrix_index.search(f"{case['word']}cat", scope)
        found = [g for g in results.groups if isinstance(g, InterviewGroup)]
        if visible != (len(found) == 1 and found[0].interview_id == case["iid"]):
            wrong.append((case_id(case), visible, [g.interview_id for g in found]))
        if found and found[0].moments:
            wrong.append((case_id(case), "the title's word is no moment"))
        if not visible and (results.total_groups or any(n for _, n in results.facets["narrator"])):
            wrong.append((case_id(case), "counted", results.total_groups))
    assert wrong == []


@pytest.mark.parametrize("viewer_name", list(VIEWERS))
def test_documents_are_found_exactly_at_the_viewers_document_levels(matrix_index, viewer_name):
    viewer = VIEWERS[viewer_name]
    scope = policy.search_scope(viewer, NOW)
    for level in LEVELS:
        paper = SimpleNamespace(access_level=level, created_by_id=99)
        expected = 1 if policy.can_view_document(viewer, paper) else 0
        assert matrix_index.search(f"{level}docword", scope).total_groups == expected, level
