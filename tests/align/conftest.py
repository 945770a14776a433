"""An interview with the JFK recording (11 s) and an untimed two-paragraph transcript,
made through the API by its contributor (a draft: the contributor may still edit it)."""

from __future__ import annotations

import io

import pytest

from tests import conftest

FIRST = "And so, my fellow Americans: ask not what your country can do for you,"
SECOND = "ask what you can do for your country."
UNTIMED = f"KENNEDY: {FIRST}\n\nKENNEDY: {SECOND}\n"


def add_recording(client, interview_id: int, path) -> dict:
    with open(path, "rb") as handle:
        response = client.post(
            f"/api/v1/interviews/{interview_id}/recordings",
            data={"file": (io.BytesIO(handle.read()), path.name)},
            content_type="multipart/form-data",
        )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def add_transcript(client, interview_id: int, text: str, filename: str = "kennedy.txt") -> dict:
    response = client.post(
        f"/api/v1/interviews/{interview_id}/transcripts",
        data={"file": (io.BytesIO(text.encode()), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def jfk_interview(browser):
    """(interview id, recording id): a draft with JFK's audio and the untimed transcript."""
    owner = browser("contributor")
    made = owner.post("/api/v1/interviews", json={"title": "Inaugural ALIGNMARKER"})
    interview_id = made.get_json()["id"]
    recording = add_recording(owner, interview_id, conftest.testdata("jfk-speech", "jfk.mp3"))
    add_transcript(owner, interview_id, UNTIMED)
    return interview_id, recording["id"]
