"""Search through the pages and the API: grouping, moments with ?t= links, facets,
malformed queries, the index following commits, and the access restriction (leak test)."""

from __future__ import annotations

import datetime as dt

import pytest

from oralhist.extensions import db
from oralhist.models import Interview, Person, Segment, Speaker, Transcript
from oralhist.services import indexing

LEVELS = ("open", "registered", "restricted", "closed")


def add_interview(title, level="open", status="published", lines=(), embargo=None, **extra):
    """An interview with a current transcript, committed and indexed."""
    narrator = Person(name=extra.pop("narrator", "Thomas Whitfield"), sort_name="x")
    interview = Interview(
        title=title,
        accession=f"T-{title[:20]}",
        access_level=level,
        status=status,
        embargo_until=embargo,
        date_recorded=extra.pop("date", "1986-05"),
        **extra,
    )
    db.session.add_all([narrator, interview])
    db.session.flush()
    from oralhist.models import Participant

    interview.participants.append(Participant(person_id=narrator.id, role="interviewee"))
    transcript = Transcript(interview_id=interview.id, version=1, source_format="vtt")
    db.session.add(transcript)
    db.session.flush()
    speakers = {}
    for position, (speaker, start, text) in enumerate(lines):
        if speaker not in speakers:
            speakers[speaker] = Speaker(interview_id=interview.id, label=speaker)
            db.session.add(speakers[speaker])
            db.session.flush()
        db.session.add(
            Segment(
                transcript_id=transcript.id,
                position=position,
                start_ms=start,
                end_ms=start + 4000,
                speaker_id=speakers[speaker].id,
                text=text,
            )
        )
    db.session.flush()
    db.session.commit()
    return interview.id


@pytest.fixture
def archive(app):
    with app.app_context():
        ids = {
            "open": add_interview(
                "Open one",
                lines=[
                    ("INTERVIEWER", 1000, "Tell me about the pamphlet."),
                    ("WHITFIELD", 5000, "We read the pamphlet at the branch meeting."),
                    ("WHITFIELD", 61975, "Organising the apprentices was hard work."),
                ],
            ),
        }
        for level in ("registered", "restricted", "closed"):
            ids[level] = add_interview(
                f"{level.title()} one",
                level=level,
                narrator=f"Narrator {level}",
                lines=[("NARRATOR", 2000, f"The zanzibarmarker{level} word and the pamphlet.")],
            )
        ids["draft"] = add_interview(
            "Draft one",
            status="draft",
            lines=[("NARRATOR", 2000, "The zanzibarmarkerdraft word.")],
        )
        ids["embargoed"] = add_interview(
            "Embargoed one",
            embargo=dt.date(2999, 1, 1),
            lines=[("NARRATOR", 2000, "The zanzibarmarkerembargo word.")],
        )
    return ids


def test_results_are_grouped_with_moments_that_open_the_player(archive, browser):
    client = browser()
    data = client.get("/api/v1/search?q=pamphlet").json
    open_group = next(g for g in data["groups"] if g["interview_id"] == archive["open"])
    assert open_group["total_moments"] == 2
    starts = sorted(m["start_ms"] for m in open_group["moments"])
    assert starts == [1000, 5000]
    moment = next(m for m in data["results"] if m["start_ms"] == 5000)
    assert moment["speaker"] == "WHITFIELD"
    assert "<mark>pamphlet</mark>" in moment["snippet"]
    assert moment["url"].startswith(f"/interviews/{archive['open']}?t=5")
    html = client.get("/search?q=pamphlet").get_data(as_text=True)
    assert f"/interviews/{archive['open']}?t=5" in html
    assert "<mark>pamphlet</mark>" in html


def test_stemming_phrases_and_facets(archive, browser):
    client = browser()
    assert client.get("/api/v1/search?q=organised").json["total"] == 1
    assert client.get('/api/v1/search?q="branch meeting"').json["total"] == 1
    assert client.get('/api/v1/search?q="meeting branch"').json["total"] == 0
    data = client.get("/api/v1/search?q=pamphlet").json
    speakers = {f["value"]: f["count"] for f in data["facets"]["speaker"]}
    assert speakers.get("WHITFIELD") == 1
    narrowed = client.get("/api/v1/search?q=pamphlet&speaker=INTERVIEWER").json
    assert [m["start_ms"] for m in narrowed["results"]] == [1000]


@pytest.mark.parametrize("q", ['"unbalanced', "year:abc", "*", "OR", "ab*"])
def test_malformed_queries_get_a_readable_400(archive, browser, q):
    client = browser()
    api = client.get("/api/v1/search", query_string={"q": q})
    page = client.get("/search", query_string={"q": q})
    assert api.status_code == 400, api.json
    assert api.json["error"]["code"] == "bad_query"
    assert api.json["error"]["message"]
    assert page.status_code == 400


def test_bad_paging_and_sort(archive, browser):
    client = browser()
    for qs in ("q=x&page=0", "q=x&page=abc", "q=x&per_page=1000", "q=x&sort=weird"):
        assert client.get(f"/api/v1/search?{qs}").status_code == 400


WITHOUT_ACCESS = {
    None: ("registered", "restricted", "closed", "draft", "embargo"),
    "researcher": ("restricted", "closed", "draft", "embargo"),
    "contributor2": ("restricted", "closed", "draft", "embargo"),
}


def without_echo(body: str, q: str) -> str:
    """The response without the places that repeat the query itself back."""
    import json
    from urllib.parse import quote_plus

    from markupsafe import escape

    for form in (q, str(escape(q)), json.dumps(q)[1:-1], quote_plus(q)):
        body = body.replace(form, "")
    return body


@pytest.mark.parametrize("role", list(WITHOUT_ACCESS))
def test_marker_words_never_leak(archive, browser, role):
    client = browser(role)
    for level in WITHOUT_ACCESS[role]:
        marker = f"zanzibarmarker{level}"
        for q in (
            marker,
            f'"the {marker} word"',
            f"{marker[:-2]}*",
            f"{marker}~",
            f"{marker[:12]}*",
            "zanzibarmarke~2",
            "pamphlet",
        ):
            for url in ("/api/v1/search", "/search"):
                response = client.get(url, query_string={"q": q})
                assert marker not in without_echo(response.get_data(as_text=True), q), (role, q)
            data = client.get("/api/v1/search", query_string={"q": q}).json
            if data and "groups" in data:
                assert all(
                    g.get("interview_id") != archive.get(level) or not g.get("moments")
                    for g in data["groups"]
                ), (role, q)
        # misspelt: the suggestion must not come from text this viewer may not read
        data = client.get("/api/v1/search", query_string={"q": marker[:-1] + "x"}).json
        assert marker not in (data.get("suggestion") or "")


def test_archivist_and_grant_see_the_words(archive, app, browser):
    archivist = browser("archivist")
    for level in ("restricted", "closed", "draft", "embargo"):
        data = archivist.get("/api/v1/search", query_string={"q": f"zanzibarmarker{level}"}).json
        assert data["total"] == 1, level
    researcher = browser("researcher")
    assert researcher.get("/api/v1/search?q=zanzibarmarkerregistered").json["total"] == 1


def test_catalogue_record_of_restricted_interview_is_findable(archive, browser):
    data = browser().get("/api/v1/search?q=Restricted").json
    group = next(g for g in data["groups"] if g.get("interview_id") == archive["restricted"])
    assert group["catalogue_match"] is True
    assert group["moments"] == []


def test_index_follows_commits_and_replays_after_a_crash(app, browser):
    with app.app_context():
        iid = add_interview("Later", lines=[("A", 0, "quokkaword spoken")])
    assert browser().get("/api/v1/search?q=quokkaword").json["total"] == 1
    # Simulate a crash between the database commit and the index write: the outbox row is
    # committed but never applied; the next start replays it.
    with app.app_context():
        app.config["SEARCH_SYNC"] = False
        interview = db.session.get(Interview, iid)
        interview.title = "Renamed wombatitle"
        db.session.commit()
        assert indexing.pending_count() == 1
        assert browser().get("/api/v1/search?q=wombatitle").json["total"] == 0
        app.config["SEARCH_SYNC"] = True
        indexing.startup_check()
        assert indexing.pending_count() == 0
    assert browser().get("/api/v1/search?q=wombatitle").json["total"] == 1


def test_missing_index_is_rebuilt_at_start(app, browser, archive):
    import shutil

    with app.app_context():
        index = indexing.search_index()
        if hasattr(index, "drop"):  # the index in PostgreSQL: its schema dropped
            index.drop()
        else:
            index.close()
            shutil.rmtree(app.config["SEARCH_INDEX_DIR"])
        indexing.startup_check()
    assert browser().get("/api/v1/search?q=pamphlet").json["total"] >= 1


def test_search_inside_one_interview(archive, browser):
    client = browser()
    data = client.get(f"/api/v1/interviews/{archive['open']}/search?q=pamphlet").json
    assert [m["start_ms"] for m in data["results"]] == [1000, 5000]
    hidden = client.get(f"/api/v1/interviews/{archive['restricted']}/search?q=pamphlet").json
    assert hidden["results"] == []
    assert client.get(f"/api/v1/interviews/{archive['draft']}/search?q=x").status_code == 404


def test_reindex_command_rebuilds(app, archive):
    result = app.test_cli_runner().invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed" in result.output
