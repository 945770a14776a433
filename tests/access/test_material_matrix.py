"""The matrix through the material endpoints: audio GET/HEAD/Range, master download,
transcript download (file and API), and what the interview page shows (player, transcript
text), for every role x every kind of interview. Zero mismatches; failures list them all."""

from __future__ import annotations

import io
import math
import struct
import wave

import pytest

from oralhist.access.policy import Viewer
from oralhist.extensions import db
from oralhist.models import Interview

from .test_policy_matrix import DOWNLOAD_MASTER, LISTEN, ROLES, VIEW_RECORD

VTT = """WEBVTT

00:00:00.000 --> 00:00:00.800
<v Narrator>We marched past the mill, {marker}, in the rain.
"""


def wav_bytes(seconds: float, freq: float) -> bytes:
    rate = 8000
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(
            b"".join(
                struct.pack("<h", int(6000 * math.sin(2 * math.pi * freq * i / rate)))
                for i in range(int(seconds * rate))
            )
        )
    return buffer.getvalue()


def marker(kind: str) -> str:
    return f"zq{kind.replace('_', '')}marker"


@pytest.fixture
def material(app, people, interviews, states):
    """A recording and a transcript (with a unique marker word) on every interview."""
    return make_material(app, people, interviews)


def make_material(app, people, interviews) -> dict[str, int]:
    if "recordings.audio" not in app.view_functions:
        pytest.fail("the recordings area is not registered (recordings.audio missing)")
    from oralhist.services import recordings, transcripts

    archivist = Viewer(user_id=people["archivist"], role="archivist")
    made = {}
    with app.test_request_context():
        for index, (kind, iid) in enumerate(interviews.items()):
            interview = db.session.get(Interview, iid)
            rec = recordings.add_recording(
                archivist,
                interview,
                io.BytesIO(wav_bytes(1.0, 300 + 40 * index)),
                f"{kind}.wav",
            )
            transcripts.import_transcript(
                archivist,
                interview,
                VTT.format(marker=marker(kind)).encode(),
                f"{kind}.vtt",
            )
            made[kind] = rec.id
        db.session.commit()
    return made


def fetch(call, url, **kw) -> tuple[int, str]:
    """Status and body text, with the response closed (file responses hold a handle)."""
    response = call(url, **kw)
    try:
        return response.status_code, response.get_data().decode("utf-8", "replace")
    finally:
        response.close()


def _denied(role: str, visible: bool) -> int:
    if not visible:
        return 404
    return 302 if role == "anonymous" else 403


def test_material_matrix_http(app, people, interviews, states, material, login):
    mismatches = []
    for role, key in ROLES.items():
        client = login(key)
        for kind, iid in interviews.items():
            visible = kind in VIEW_RECORD[role]
            listen = kind in LISTEN[role]
            master = kind in DOWNLOAD_MASTER[role]
            rid = material[kind]
            checks = [
                (
                    # a whole-file GET: not for a listen-only grant (README)
                    "audio GET",
                    fetch(client.get, f"/recordings/{rid}/audio"),
                    (200 if master else 403) if listen else None,
                ),
                (
                    "audio HEAD",
                    fetch(client.head, f"/recordings/{rid}/audio"),
                    200 if listen else None,
                ),
                (
                    "audio Range",
                    fetch(
                        client.get, f"/recordings/{rid}/audio", headers={"Range": "bytes=100-199"}
                    ),
                    206 if listen else None,
                ),
                (
                    "master download",
                    fetch(client.get, f"/recordings/{rid}/download"),
                    200 if master else None,
                ),
                (
                    "transcript download",
                    fetch(client.get, f"/interviews/{iid}/transcript/download?format=vtt"),
                    200 if listen else None,
                ),
            ]
            for name, (status, text), allowed in checks:
                want = allowed if allowed is not None else _denied(role, visible)
                if status != want:
                    mismatches.append((role, kind, name, want, status))
                if allowed is None and marker(kind) in text:
                    mismatches.append((role, kind, name, "no marker", "marker leaked"))
            api = client.get(f"/api/v1/interviews/{iid}/transcript")
            denied = 401 if role == "anonymous" else 403  # the API asks for credentials
            want_api = 200 if listen else (404 if not visible else denied)
            if api.status_code != want_api:
                mismatches.append((role, kind, "api transcript", want_api, api.status_code))
            if not visible:
                continue
            page = client.get(f"/interviews/{iid}").get_data(as_text=True)
            if ("<audio" in page) != listen:
                mismatches.append((role, kind, "player on page", listen, "<audio" in page))
            if (marker(kind) in page) != listen:
                mismatches.append((role, kind, "transcript on page", listen, marker(kind) in page))
            recording_json = client.get(f"/api/v1/interviews/{iid}").json["recordings"][0]
            if ("audio_url" in recording_json) != listen:
                mismatches.append(
                    (role, kind, "api audio_url", listen, "audio_url" in recording_json)
                )
    assert mismatches == [], "\n".join(map(str, mismatches))


def test_plays_and_downloads_of_restricted_material_are_audited(
    app, people, interviews, states, material, login
):
    from sqlalchemy import select

    from oralhist.models import AuditEvent

    client = login("r_approved")
    rid = material["restricted"]
    assert fetch(client.get, f"/recordings/{rid}/audio")[0] == 200
    assert fetch(client.get, f"/recordings/{rid}/download")[0] == 200
    iid = interviews["restricted"]
    assert client.get(f"/interviews/{iid}/transcript/download?format=txt").status_code == 200
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.action, AuditEvent.user_id).where(
                AuditEvent.action.in_(
                    ("recording.play", "recording.download", "transcript.download")
                )
            )
        ).all()
    assert sorted(rows) == sorted(
        [
            ("recording.play", people["r_approved"]),
            ("recording.download", people["r_approved"]),
            ("transcript.download", people["r_approved"]),
        ]
    )
    csv_text = login("archivist").get("/access/audit.csv?action=recording.").get_data(as_text=True)
    assert "recording.play" in csv_text and "r_approved@example.org" in csv_text
