"""Real third-party audio through the HTTP upload: the whole mutagen corpus, the Science
History Institute's samples and the JFK speech in four formats. One app for the module keeps
it fast; each file goes through ``POST /api/v1/interviews/<id>/recordings``."""

from __future__ import annotations

import json
from pathlib import Path

import mutagen
import pytest

from oralhist.extensions import db
from oralhist.media.storage import display_filename
from oralhist.models import Interview
from tests.conftest import TESTDATA, Browser
from tests.conftest import testdata as shared_file

from .conftest import upload

CORPUS = TESTDATA / "mutagen" / "data"
EXPECTATIONS_FILE = TESTDATA / "mutagen" / "EXPECTATIONS.json"
EXPECTATIONS = json.loads(EXPECTATIONS_FILE.read_text()) if EXPECTATIONS_FILE.is_file() else {}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(app, archivist Browser, interview id), shared by the module's tests."""
    from oralhist.services import accounts
    from tests.conftest import PASSWORD, build_app

    tmp = tmp_path_factory.mktemp("corpus")
    app = build_app(tmp, SEARCH_SYNC=False)
    with app.app_context():
        accounts.create_user("archivist@example.org", PASSWORD, role="archivist", name="A")
        interview = Interview(accession="OH-CORPUS", title="Corpus", status="draft")
        db.session.add(interview)
        db.session.commit()
        interview_id = interview.id
    yield app, Browser(app, "archivist@example.org"), interview_id
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name != "sqlite":
            db.drop_all()
        db.engine.dispose()


def post(site, path: Path, name: str | None = None):
    _, archivist, interview_id = site
    return upload(archivist, interview_id, path.read_bytes(), name or path.name)


def assert_refused(response, name: str) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.json)
    message = response.json["error"]["message"]
    assert display_filename(name) in message, message


def mutagen_length(path: Path) -> float | None:
    audio = mutagen.File(path)
    return None if audio is None else getattr(audio.info, "length", None)


@pytest.mark.parametrize("name", sorted(EXPECTATIONS) or ["(corpus absent)"])
def test_mutagen_corpus_through_http(site, name):
    path = shared_file("mutagen", "data", name)
    status = EXPECTATIONS[name]["status"]
    response = post(site, path)
    assert response.status_code != 500
    if status == "valid":
        length = mutagen_length(path) if path.suffix not in (".mid", ".oggtheora") else None
        if length:
            assert response.status_code == 201, response.json
            assert response.json["duration_ms"] == pytest.approx(length * 1000, rel=0.01, abs=1)
            assert response.json["mime"].startswith("audio/")
        else:  # MIDI, video, or no audio time at all: refused with a reason
            assert_refused(response, name)
    elif status == "damaged_but_readable":
        if response.status_code != 201:
            assert_refused(response, name)
    else:  # corrupt_must_raise, and what is not audio at all
        assert_refused(response, name)


@pytest.mark.parametrize(
    ("name", "seconds"),
    [
        ("5-seconds-of-silence.mp3", 5),
        ("5-seconds-of-silence.m4a", 5),
        ("5-seconds-of-silence.flac", 5),
        ("10-seconds-of-silence.mp3", 10),
        ("10-seconds-of-silence.m4a", 10),
        ("10-minutes-of-silence.mp3", 600),
        ("10-minutes-of-silence.m4a", 600),
    ],
)
def test_scihist_silences_accepted(site, name, seconds):
    response = post(site, shared_file("scihist", "audio", name))
    assert response.status_code == 201, response.json
    assert response.json["duration_ms"] == pytest.approx(seconds * 1000, abs=250)


@pytest.mark.parametrize("name", ["zero_bytes.flac", "smallest_webm.webm"])
def test_scihist_non_audio_refused(site, name):
    assert_refused(post(site, shared_file("scihist", "audio", name)), name)


def test_jfk_four_formats_agree(site):
    durations = {}
    for name in ("jfk.wav", "jfk.mp3", "jfk.ogg", "jfk.opus"):
        response = post(site, shared_file("jfk-speech", name))
        assert response.status_code == 201, response.json
        durations[name] = response.json["duration_ms"]
    assert max(durations.values()) - min(durations.values()) <= 100, durations
    assert 10_500 <= durations["jfk.wav"] <= 11_500


def test_jpeg_renamed_mp3_refused_and_content_type_ignored(site, tmp_path):
    app = site[0]
    jpeg = tmp_path / "photo.mp3"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 2000)
    assert_refused(post(site, jpeg), "photo.mp3")
    # the JFK MP3 under a .flac name is refused: the name claims another format
    assert_refused(post(site, shared_file("jfk-speech", "jfk.mp3"), "jfk.flac"), "jfk.flac")
    assert_refused(
        post(site, shared_file("jfk-speech", "jfk.mp3"), "André.mp3.php"), "André.mp3.php"
    )
    ok = post(site, shared_file("jfk-speech", "jfk.mp3"), "André.mp3")
    assert ok.status_code == 201 and ok.json["original_filename"] == "André.mp3"
    temp = Path(app.config["MEDIA_ROOT"]) / "tmp"
    assert not temp.exists() or list(temp.iterdir()) == []
