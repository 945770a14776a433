"""Citations for any moment or range (issue 15 item 3): the Chicago and MLA forms for an
oral history interview, and ``GET /api/v1/interviews/<id>/citation`` for every role."""

from __future__ import annotations

import io

import pytest

from oralhist.models import Collection, Interview, Participant, Person
from oralhist.services import citations
from tests.recordings.conftest import wav_bytes


def _interview(**fields) -> Interview:
    interview = Interview(
        id=7,
        accession="OH-2005-014",
        title="Leaving the party",
        date_recorded=fields.pop("date_recorded", "1957-03-12"),
        place=fields.pop("place", "Nottingham"),
        **fields,
    )
    return interview


def _people(interview: Interview, *names: tuple[str, str, str]) -> None:
    for name, sort_name, role in names:
        interview.participants.append(
            Participant(person=Person(name=name, sort_name=sort_name), role=role)
        )


@pytest.fixture
def cited(app):
    with app.test_request_context():
        interview = _interview(collection=Collection(title="Voices of 1956", slug="v"))
        _people(
            interview,
            ("Thomas Whitfield", "Whitfield, Thomas", "interviewee"),
            ("Ruth Adler", "", "interviewer"),
        )
        yield citations.cite(interview, 61_975, 90_500, archive="Nottingham Archives")


def test_chicago_note_for_an_archived_oral_history_interview(cited):
    assert cited.chicago_note == (
        "Thomas Whitfield, interview by Ruth Adler, March 12, 1957, Nottingham, OH-2005-014, "
        "Voices of 1956, Nottingham Archives, 0:01:01–0:01:30, "
        f"{cited.url}."
    )


def test_chicago_bibliography_files_under_the_narrator(cited):
    assert cited.chicago_bibliography == (
        "Whitfield, Thomas. “Leaving the party.” Interview by Ruth Adler. March 12, 1957, "
        "Nottingham. OH-2005-014. Voices of 1956. Nottingham Archives. " + cited.url
    )


def test_mla_works_cited_and_in_text_time_stamps(cited):
    assert cited.mla == (
        "Whitfield, Thomas. “Leaving the party.” Interview by Ruth Adler. Voices of 1956, "
        f"12 Mar. 1957, Nottingham Archives, {cited.url}."
    )
    assert cited.mla_in_text == "(Whitfield 0:01:01–0:01:30)"


def test_the_permalink_keeps_milliseconds_and_the_end(cited):
    assert cited.url.endswith("/interviews/7?t=61.975&end=90.5")
    assert (cited.start_ms, cited.end_ms) == (61_975, 90_500)


def test_partial_dates_and_missing_parts_are_left_out(app):
    with app.test_request_context():
        interview = _interview(date_recorded="1957-03", place=None)
        _people(interview, ("Ada", "", "interviewee"))
        c = citations.cite(interview, 5_000, None, archive="")
    assert c.chicago_note == f"Ada, interview, March 1957, OH-2005-014, 0:00:05, {c.url}."
    assert c.mla == f"Ada. “Leaving the party.” Interview. Mar. 1957, {c.url}."
    assert c.mla_in_text == "(Ada 0:00:05)"
    assert "end=" not in c.url


def test_without_a_narrator_the_title_leads(app):
    with app.test_request_context():
        interview = _interview(date_recorded="1957")
        _people(
            interview,
            ("Ruth Adler", "", "interviewer"),
            ("Sam Low", "Low, Sam", "interviewer"),
            ("Jo Bell", "", "interviewer"),
        )
        c = citations.cite(interview, 0, 1000, archive="A")
    assert c.chicago_note.startswith(
        "“Leaving the party,” interview by Ruth Adler, Sam Low, and Jo Bell, 1957, Nottingham"
    )
    assert c.mla.startswith("“Leaving the party.” Interview by Ruth Adler, Sam Low, and Jo Bell.")


def test_several_narrators_and_names_without_a_sort_name(app):
    with app.test_request_context():
        interview = _interview()
        _people(
            interview,
            ("Mary Ann Evans", "", "interviewee"),
            ("John Cross", "", "interviewee"),
        )
        c = citations.cite(interview, 0, None, archive="A")
    assert c.chicago_bibliography.startswith("Evans, Mary Ann, and John Cross. “Leaving")
    assert c.chicago_note.startswith("Mary Ann Evans and John Cross, interview, March 12, 1957")
    assert c.mla_in_text == "(Evans 0:00:00)"


@pytest.mark.parametrize(
    ("value", "chicago", "mla"),
    [
        ("1957-03-12", "March 12, 1957", "12 Mar. 1957"),
        ("1957-09", "September 1957", "Sept. 1957"),
        ("1957-06-01", "June 1, 1957", "1 June 1957"),
        ("1957", "1957", "1957"),
        ("", "", ""),
        ("c. 1957", "c. 1957", "c. 1957"),
    ],
)
def test_dates(value, chicago, mla):
    assert citations.chicago_date(value) == chicago
    assert citations.mla_date(value) == mla


# --- the API, per role ------------------------------------------------------------------


@pytest.fixture
def records(app, browser):
    from oralhist.access.policy import Viewer
    from oralhist.extensions import db
    from oralhist.services import recordings

    owner = browser("contributor")
    draft = owner.post("/api/v1/interviews", json={"title": "Draft CITEMARKER"}).json["id"]
    published = owner.post("/api/v1/interviews", json={"title": "Published"}).json["id"]
    restricted = owner.post(
        "/api/v1/interviews", json={"title": "Restricted", "access_level": "restricted"}
    ).json["id"]
    archivist = browser("archivist")
    for ident in (published, restricted):
        assert archivist.post(f"/api/v1/interviews/{ident}/publish").status_code == 200
    with app.test_request_context():
        interview = db.session.get(Interview, published)
        recordings.add_recording(
            Viewer(user_id=None, role="archivist"), interview, io.BytesIO(wav_bytes(10)), "a.wav"
        )
        db.session.commit()
    return {"draft": draft, "published": published, "restricted": restricted}


ROLES = (None, "researcher", "contributor", "contributor2", "archivist")


@pytest.mark.parametrize(
    ("which", "expected"),
    [
        ("published", (200, 200, 200, 200, 200)),
        # the catalogue record of a published interview is public, whatever the access level
        ("restricted", (200, 200, 200, 200, 200)),
        ("draft", (404, 404, 200, 404, 200)),
    ],
)
def test_citation_api_per_role(browser, records, which, expected):
    got = []
    for role in ROLES:
        response = browser(role).get(f"/api/v1/interviews/{records[which]}/citation?t=1.5&end=2")
        got.append(response.status_code)
        if response.status_code == 200:
            body = response.json
            assert body["start_ms"] == 1500 and body["end_ms"] == 2000
            assert body["url"].endswith(f"/interviews/{records[which]}?t=1.5&end=2")
            assert "0:00:01–0:00:02" in body["chicago_note"]
        else:
            assert "CITEMARKER" not in response.get_data(as_text=True)
    assert tuple(got) == expected


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("", "t", "t is required"),
        ("t=soon", "t", "is not a time"),
        ("t=5&end=4", "end", "end must come after t"),
        ("t=5&end=5", "end", "end must come after t"),
        ("t=11", "t", "t is after the end of the interview (0:00:10)"),
        ("t=1&end=00:00:12", "end", "end is after the end of the interview"),
    ],
)
def test_citation_api_names_the_bad_parameter(browser, records, query, field, message):
    response = browser(None).get(f"/api/v1/interviews/{records['published']}/citation?{query}")
    assert response.status_code == 422
    error = response.json["error"]
    assert message in error["message"]
    assert field in error["details"]["fields"]


def test_citation_api_uses_the_archive_name(app, browser, records):
    app.config["ARCHIVE_NAME"] = "Nottingham Local Studies Library"
    body = browser(None).get(f"/api/v1/interviews/{records['published']}/citation?t=0").json
    assert "Nottingham Local Studies Library" in body["chicago_note"]
    assert "Nottingham Local Studies Library" in body["mla"]
    assert body["end_ms"] is None
