"""Fixtures for the transcript import/export tests: interviews made through the API in each
state (open, registered, restricted, closed, draft), and helpers that upload transcripts."""

from __future__ import annotations

import io

import pytest

VTT = """WEBVTT

00:00:00.000 --> 00:00:05.000
<v Ruth Adler>Where does your story begin?

00:00:05.000 --> 00:00:10.000
<v Thomas Whitfield>In Nottingham, in 1931.

00:00:10.000 --> 00:00:15.000
<v Ruth Adler>And the bicycle works?

00:00:15.000 --> 00:00:20.000
<v Thomas Whitfield>I started there as an apprentice.
"""


@pytest.fixture
def make_interview(browser):
    """``make_interview(level="open", state="published", owner="contributor")`` -> id.

    The owner (a contributor) creates the draft through the API; an archivist publishes it
    and sets the access level."""
    return interview_maker(browser)


def interview_maker(browser):
    """``make_interview``'s function, signing in with ``browser(role)`` (a Browser)."""
    archivist = browser("archivist")

    def make(level: str = "open", state: str = "published", owner: str = "contributor") -> int:
        creator = browser(owner)
        response = creator.post("/api/v1/interviews", json={"title": f"A {level} {state} one"})
        assert response.status_code == 201, response.get_json()
        interview_id = response.get_json()["id"]
        if level != "open":
            response = archivist.patch(
                f"/api/v1/interviews/{interview_id}", json={"access_level": level}
            )
            assert response.status_code == 200, response.get_json()
        if state == "published":
            response = archivist.post(f"/api/v1/interviews/{interview_id}/publish")
            assert response.status_code == 200, response.get_json()
        return interview_id

    return make


def upload(client, interview_id: int, data: bytes | str, filename: str = "t.vtt", **fields):
    """POST a transcript file to the import API."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    form = {"file": (io.BytesIO(data), filename), **fields}
    return client.post(
        f"/api/v1/interviews/{interview_id}/transcripts",
        data=form,
        content_type="multipart/form-data",
    )


@pytest.fixture
def with_transcript(browser, make_interview):
    """An interview (any level/state) with the 4-cue VTT imported by an archivist."""
    return transcript_maker(browser, make_interview)


def transcript_maker(browser, make_interview):
    """``with_transcript``'s function, on ``browser`` and ``make_interview``'s functions."""

    def make(level: str = "open", state: str = "published", text: str = VTT) -> int:
        interview_id = make_interview(level, state)
        response = upload(browser("archivist"), interview_id, text)
        assert response.status_code == 201, response.get_json()
        return interview_id

    return make
