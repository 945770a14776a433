"""Helpers for the recordings tests: WAV files made with the stdlib ``wave`` module (no
committed binaries), interviews at every access level, uploads through the HTTP stack."""

from __future__ import annotations

import io
import math
import struct
import wave
from pathlib import Path

import pytest

from oralhist.extensions import db
from oralhist.models import Interview, Recording
from tests.conftest import world_scope

LEVELS = ("open", "registered", "restricted", "closed")


def wav_bytes(seconds: float = 1.0, *, rate: int = 8000, freq: float = 440.0) -> bytes:
    """A mono 16-bit PCM WAV of a sine tone (``freq`` varies the content, hence the sha256)."""
    frames = int(seconds * rate)
    samples = (int(8000 * math.sin(2 * math.pi * freq * i / rate)) for i in range(frames))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return buffer.getvalue()


def upload(
    client,
    interview_id: int,
    content: bytes,
    filename: str,
    *,
    label: str = "",
    api: bool = True,
    content_type: str | None = None,
    **kw,
):
    """POST a multipart upload (csrf_token first, as the page's form sends it)."""
    url = (
        f"/api/v1/interviews/{interview_id}/recordings"
        if api
        else f"/interviews/{interview_id}/recordings"
    )
    fields = {"csrf_token": client.token()} if hasattr(client, "token") else {}
    if label:
        fields["label"] = label
    body, ctype = multipart_body(fields, content, filename, content_type)
    headers = {"X-CSRFToken": client.token()} if hasattr(client, "token") else {}
    raw = getattr(client, "client", client)
    return raw.post(url, data=body, content_type=ctype, headers=headers, **kw)


def multipart_body(
    fields: dict[str, str], content: bytes, filename: str, content_type: str | None = None
) -> tuple[bytes, str]:
    """A multipart/form-data body with ``fields`` first, then the ``file`` part.

    Built here (not by the test client, which spools big bodies to a temporary file that it
    never closes) so large corpus files do not leak descriptors.
    """
    boundary = "oralhist-test-boundary-7f3a"
    out = bytearray()
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    quoted = filename.replace("\\", "\\\\").replace('"', "%22")
    out += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
        f"Content-Type: {content_type or 'application/octet-stream'}\r\n\r\n"
    ).encode()
    out += content + f"\r\n--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def media_files(app) -> list[Path]:
    """Every file under MEDIA_ROOT (including temporary ones)."""
    root = Path(app.config["MEDIA_ROOT"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def recording_count(app) -> int:
    with app.app_context():
        return db.session.query(Recording).count()


@pytest.fixture
def interviews(app, users):
    """Interviews deposited by ``contributor``: one published per level, and a draft."""
    return make_interviews(app, users)


@pytest.fixture
def recorded(app, interviews):
    """One 1-second WAV recording on each interview (added by the service as an archivist)."""
    return make_recordings(app, interviews)


@pytest.fixture(scope=world_scope)
def recorded_world(world_app, world_users) -> tuple[dict, dict]:
    """``(interviews, recorded)`` made once for a module that takes them as its world
    (tests/savepoints.py): it overrides ``users``, ``interviews`` and ``recorded``."""
    interviews = make_interviews(world_app, world_users)
    return interviews, make_recordings(world_app, interviews)


def make_interviews(app, users) -> dict[str, int]:
    made = {}
    with app.app_context():
        for name in (*LEVELS, "draft"):
            interview = Interview(
                accession=f"OH-T-{name}",
                title=f"Interview {name}",
                access_level="open" if name == "draft" else name,
                status="draft" if name == "draft" else "published",
                created_by_id=users["contributor"],
            )
            db.session.add(interview)
            db.session.flush()
            made[name] = interview.id
        db.session.commit()
    return made


def make_recordings(app, interviews) -> dict[str, int]:
    from oralhist.access.policy import Viewer
    from oralhist.services import recordings

    made = {}
    with app.test_request_context():
        viewer = Viewer(user_id=None, role="archivist")
        for index, (name, interview_id) in enumerate(interviews.items()):
            interview = db.session.get(Interview, interview_id)
            content = wav_bytes(1.0, freq=300 + 50 * index)
            rec = recordings.add_recording(
                viewer, interview, io.BytesIO(content), f"{name}.wav", label=f"Tape {name}"
            )
            made[name] = rec.id
        db.session.commit()
    return made
