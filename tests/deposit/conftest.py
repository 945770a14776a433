"""Helpers for the one-step deposit tests: audio staged through the API as the page's script
does, and the deposit form posted as a browser sends it."""

from __future__ import annotations

import io

import pytest

from oralhist.extensions import db
from oralhist.models import StagedAudio

from ..recordings.conftest import multipart_body, wav_bytes

TIMED_VTT = (
    "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n<v Mary Smith>We met above the DEPOSITMARKER "
    "bakery.\n\n00:00:01.500 --> 00:00:02.800\n<v Ruth Adler>And then?\n"
)
UNTIMED_TXT = (
    "ADLER: Where did the branch meet?\n\nSMITH: Above the bakery, in the DEPOSITMARKER room.\n"
)
BAD_SRT = "1\n00:00:01,000 --> 00:00:02,000\nFine.\n\n2\n00:00:05,000 --> banana\nBroken.\n"


def stage(client, content: bytes | None = None, filename: str = "tape1.wav"):
    """POST one audio file to the staging API (the deposit page's script)."""
    body, ctype = multipart_body(
        {"csrf_token": client.token()}, content or wav_bytes(3.0), filename, "audio/wav"
    )
    return client.client.post(
        "/api/v1/deposit/audio",
        data=body,
        content_type=ctype,
        headers={"X-CSRFToken": client.token(), "Accept": "application/json"},
    )


def deposit_form(
    client,
    staged_ids,
    *,
    title="Mary Smith on the 1956 strike",
    transcript: tuple[str, bytes] | None = None,
    people=(("", "Mary Smith", "interviewee"), ("", "Ruth Adler", "interviewer")),
    **extra,
):
    """POST the deposit page's form (multipart, with the transcript file if given)."""
    data: dict = {
        "csrf_token": client.token(),
        "title": title,
        "date_recorded": "1957-03",
        "access_level": "open",
        "transcript_format": "",
        "staged": [str(i) for i in staged_ids],
        "participant_person": [p[0] for p in people],
        "participant_name": [p[1] for p in people],
        "participant_role": [p[2] for p in people],
        **extra,
    }
    if transcript is not None:
        data["transcript"] = (io.BytesIO(transcript[1]), transcript[0])
    return client.client.post(
        "/deposit",
        data=data,
        content_type="multipart/form-data",
        headers={"X-CSRFToken": client.token()},
    )


def staged_count(app) -> int:
    with app.app_context():
        return db.session.query(StagedAudio).count()


@pytest.fixture
def contributor(browser):
    return browser("contributor")
