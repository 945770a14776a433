"""Fixtures for the transcript editor: the transcript tests' interviews and uploads."""

from __future__ import annotations

from tests.transcripts_web.conftest import (  # noqa: F401  (fixtures)
    VTT,
    make_interview,
    upload,
    with_transcript,
)


def segments(client, interview_id):
    return client.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()["segments"]


def version(client, interview_id) -> int:
    return client.get(f"/api/v1/interviews/{interview_id}/transcript").get_json()["version"]
