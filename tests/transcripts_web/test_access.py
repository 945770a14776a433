"""Who may do what with transcripts: every role against every endpoint, on open,
restricted, closed and draft interviews (the draft and the others belong to "contributor")."""

from __future__ import annotations

import pytest

from tests.conftest import Browser, world_scope

from .conftest import VTT, interview_maker, transcript_maker, upload

#: The interviews every test starts from: (level, state) -> with the 4-cue VTT.
WORLD = (
    ("open", "published"),
    ("restricted", "published"),
    ("closed", "published"),
    ("registered", "published"),
    ("open", "draft"),
)


@pytest.fixture
def users(world_users):
    """The module's world (tests/savepoints.py): built once, each test rolled back to it."""
    return world_users


@pytest.fixture(scope=world_scope)
def world_interviews(world_app, world_users) -> dict[tuple[str, str], int]:
    def browser(role: str | None) -> Browser:
        return Browser(world_app, f"{role}@example.org" if role else None)

    make = transcript_maker(browser, interview_maker(browser))
    return {(level, state): make(level, state) for level, state in WORLD}


@pytest.fixture
def with_transcript(world_interviews):
    """The world's interview of that level and state (each has the 4-cue VTT)."""

    def find(level: str = "open", state: str = "published", text: str = VTT) -> int:
        assert text == VTT, "the world's interviews have the 4-cue VTT"
        return world_interviews[(level, state)]

    return find


ROLES = (None, "researcher", "contributor", "contributor2", "archivist", "admin")
STATES = ("open", "restricted", "closed", "draft")


def _make(with_transcript, state: str) -> int:
    if state == "draft":
        return with_transcript("open", "draft")
    return with_transcript(state, "published")


def read_status(role: str | None, state: str) -> int:
    """Reading the transcript (API, downloads, versions, speakers)."""
    if role in ("archivist", "admin", "contributor"):
        return 200
    if state == "draft":
        return 404
    if state == "open":
        return 200
    return 401 if role is None else 403  # the API asks the anonymous for credentials


def edit_status(role: str | None, state: str, ok: int = 200) -> int:
    """Importing, restoring, tagging speakers: archivists, and the owner of a draft. A write
    without credentials is refused (401) before anything is looked up."""
    if role is None:
        return 401
    if role in ("archivist", "admin"):
        return ok
    if state == "draft":
        return ok if role == "contributor" else 404
    return 403


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_reading(browser, with_transcript, role, state):
    interview_id = _make(with_transcript, state)
    client = browser(role)
    expected = read_status(role, state)
    urls = [
        f"/api/v1/interviews/{interview_id}/transcript",
        f"/api/v1/interviews/{interview_id}/transcript?format=vtt",
        f"/api/v1/interviews/{interview_id}/transcripts",
        f"/api/v1/interviews/{interview_id}/speakers",
    ]
    for url in urls:
        assert client.get(url).status_code == expected, url
    for fmt in ("vtt", "srt", "txt", "json", "ohms"):
        response = client.get(f"/interviews/{interview_id}/transcript/download?format={fmt}")
        if expected == 401:
            assert response.status_code == 302  # pages send the anonymous to sign in
        else:
            assert response.status_code == expected, fmt
    page = client.get(f"/interviews/{interview_id}")
    html = page.get_data(as_text=True)
    if expected == 404:
        assert page.status_code == 404
    else:
        assert page.status_code == 200
        assert ("Where does your story begin?" in html) == (expected == 200)
        assert ('<ol class="transcript' in html) == (expected == 200)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_import_api(app, browser, with_transcript, role, state):
    interview_id = _make(with_transcript, state)
    client = browser(role)
    response = upload(client, interview_id, VTT, dry_run="true")
    assert response.status_code == edit_status(role, state), response.get_json()
    response = upload(client, interview_id, VTT)
    assert response.status_code == edit_status(role, state, 201), response.get_json()
    restore = client.post(f"/api/v1/interviews/{interview_id}/transcripts/1/restore")
    assert restore.status_code == edit_status(role, state)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_speaker_edits(browser, with_transcript, role, state):
    interview_id = _make(with_transcript, state)
    speakers = browser("archivist").get(f"/api/v1/interviews/{interview_id}/speakers")
    first, second = speakers.get_json()["items"]
    segment_id = (
        browser("archivist")
        .get(f"/api/v1/interviews/{interview_id}/transcript")
        .get_json()["segments"][0]["id"]
    )
    client = browser(role)
    rename = client.patch(
        f"/api/v1/interviews/{interview_id}/speakers/{first['id']}", json={"display_name": "R"}
    )
    assert rename.status_code == edit_status(role, state)
    reassign = client.patch(f"/api/v1/segments/{segment_id}", json={"speaker_id": second["id"]})
    assert reassign.status_code == edit_status(role, state)
    merge = client.post(
        f"/api/v1/interviews/{interview_id}/speakers/{first['id']}/merge",
        json={"into": second["id"]},
    )
    assert merge.status_code == edit_status(role, state)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_import_page(browser, with_transcript, role, state):
    interview_id = _make(with_transcript, state)
    response = browser(role).get(f"/interviews/{interview_id}/transcript/import")
    expected = edit_status(role, state)
    if role is None:
        expected = 404 if state == "draft" else 302
    assert response.status_code == expected


def test_import_form_shown_only_to_editors(browser, with_transcript):
    interview_id = with_transcript("open", "published")
    form = 'class="transcript-import"'
    assert form in browser("archivist").get(f"/interviews/{interview_id}").get_data(as_text=True)
    for role in (None, "researcher", "contributor"):
        html = browser(role).get(f"/interviews/{interview_id}").get_data(as_text=True)
        assert form not in html, role
        assert "speaker…" not in html


def test_registered_level(browser, with_transcript):
    interview_id = with_transcript("registered", "published")
    url = f"/api/v1/interviews/{interview_id}/transcript"
    assert browser(None).get(url).status_code == 401
    assert browser("researcher").get(url).status_code == 200
