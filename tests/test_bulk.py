"""`oralhist export` and `oralhist import`: a full round trip into a fresh archive, the
documented example manifest, and bad manifests that must be refused with nothing created."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import struct
import wave
import zlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from oralhist.extensions import db
from oralhist.services import (
    consent,
    transcript_export,
    transcript_speakers,
    transcript_versions,
)
from oralhist.services.archive import apply, planner
from oralhist.services.archive.manifest import FORMAT
from tests.conftest import build_app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_MP3 = ROOT / "oralhist" / "sample" / "interview.mp3"
EXAMPLE = ROOT / "docs" / "manifest-example.json"


# --- helpers -------------------------------------------------------------------------------


def wav_bytes(seconds: float, frequency: int = 440) -> bytes:
    """A small, valid mono 8 kHz WAV (different frequencies give different bytes)."""
    rate = 8000
    frames = bytearray()
    for n in range(int(rate * seconds)):
        frames += struct.pack("<h", 8000 if (n * frequency * 2 // rate) % 2 else -8000)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return out.getvalue()


def png_bytes() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=[str(a) for a in args])


def ok(app, *args) -> str:
    result = invoke(app, *args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def refused(app, *args) -> str:
    result = invoke(app, *args)
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.output


def state(app) -> dict:
    """Row counts of every table and the files under MEDIA_ROOT: 'nothing created' means
    this does not change."""
    with app.app_context():
        counts = {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }
    media = Path(app.config["MEDIA_ROOT"])
    files = sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())
    return {"rows": counts, "files": files}


def load_sample(app) -> None:
    from oralhist.services import sample

    with app.app_context():
        sample.load_sample()
        db.session.commit()


@pytest.fixture
def make_other_app(tmp_path_factory):
    """A second, fresh archive on its own folder (call it after exporting: on PostgreSQL
    both apps share one database, which is emptied here)."""
    made = []

    def make():
        folder = tmp_path_factory.mktemp("other")
        other = build_app(folder)
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


# --- round trip ----------------------------------------------------------------------------


def enrich_sample(app) -> None:
    """Beyond the sample: a speaker with a name and person link, an embargo, a draft, a
    restricted document with an attached image and a creator; transcript versions (a revised
    second version of one interview; another whose first version was restored as current)."""
    from oralhist.models import Interview, Person, Speaker
    from oralhist.services import catalogue, documents, transcripts
    from oralhist.services.sample import LOADER

    with app.app_context():
        first = db.session.scalar(select(Interview).where(Interview.accession == "OH-SAMPLE-001"))
        second = db.session.scalar(select(Interview).where(Interview.accession == "OH-SAMPLE-002"))
        ruth = db.session.scalar(select(Person).where(Person.name == "Ruth Adler"))
        speaker = db.session.scalar(
            select(Speaker).where(
                Speaker.interview_id == first.id, Speaker.label == "Dr. Ruth Adler"
            )
        )
        transcript_speakers.update_speaker(
            LOADER, speaker, {"display_name": "Ruth Adler (historian)", "person_id": ruth.id}
        )
        catalogue.save_interview(LOADER, {"embargo_until": "2031-01-01"}, second)
        catalogue.save_interview(
            LOADER,
            {
                "subjects": ["Trade unions", "Bicycle industry"],
                "keywords": ["apprentices"],
                "usage": "Cite as: Whitfield interview.",
                "funding": "A heritage grant.",
                "media_url": "https://media.example.org/oh-sample-001.mp3",
            },
            first,
        )
        revised = transcript_export.export_transcript(LOADER, first, "vtt").content
        revised = revised.replace("pamphlet", "pamphlet (revised)", 1)
        assert "(revised)" in revised
        _, points = transcript_export.to_parsing(
            transcript_versions.current_transcript(first), consent.NO_REDACTION
        )
        transcripts.import_transcript(
            LOADER, first, revised.encode(), "revised.vtt", index_points=points
        )
        redone = (
            transcript_export.export_transcript(LOADER, second, "txt").content + "\nLATER: Added.\n"
        )
        transcripts.import_transcript(LOADER, second, redone.encode(), "second-pass.txt")
        transcript_versions.restore_version(LOADER, second, 1)
        catalogue.save_interview(
            LOADER, {"title": "A draft with no material", "accession": "OH-DRAFT-1"}
        )
        document = documents.save_document(
            LOADER,
            {
                "title": "Branch minute book (scan)",
                "doc_type": "minutes",
                "date": "1956-11",
                "access_level": "restricted",
                "creators": [{"name": "Margaret Hale"}],
                "full_text": "Minutes of the branch meeting.",
            },
            upload=documents.Upload(io.BytesIO(png_bytes()), "minutes.png"),
        )
        from oralhist.services import mentions

        mentions.add_mention(LOADER, document, second, 0, 0, "The minute book")
        db.session.commit()


def snapshot(app) -> dict:
    """Everything the round trip must keep, without database ids."""
    from oralhist.models import Collection, Document, Interview, Mention, Person

    with app.app_context():
        result: dict = {"interviews": [], "documents": [], "mentions": []}
        result["collections"] = [
            (c.slug, c.title, c.description)
            for c in db.session.scalars(select(Collection).order_by(Collection.slug))
        ]
        result["people"] = sorted(
            (p.name, p.sort_name, p.dates, p.biography) for p in db.session.scalars(select(Person))
        )
        for i in db.session.scalars(select(Interview).order_by(Interview.accession)):
            entry = {
                "record": (
                    i.accession,
                    i.title,
                    i.collection.slug if i.collection else None,
                    i.summary,
                    i.date_recorded,
                    i.place,
                    i.language,
                    i.rights_statement,
                    i.usage,
                    i.funding,
                    tuple(i.subjects),
                    tuple(i.keywords),
                    i.media_url,
                    i.access_level,
                    i.embargo_until,
                    i.status,
                ),
                "participants": [(p.person.name, p.role) for p in i.participants],
                "recordings": [
                    (r.position, r.label, r.original_filename, r.sha256, r.size, r.duration_ms)
                    for r in i.recordings
                ],
            }
            entry["versions"] = [
                (
                    t.version,
                    t.is_current,
                    t.language,
                    t.source_filename,
                    t.created_at,
                    [(s.start_ms, s.end_ms, s.speaker_id is not None, s.text) for s in t.segments],
                )
                for t in transcript_versions.versions(i)
            ]
            current = transcript_versions.current_transcript(i)
            if current is not None:
                entry["segments"] = [
                    (
                        s.start_ms,
                        s.end_ms,
                        s.speaker.label if s.speaker else None,
                        s.speaker.name if s.speaker else None,
                        s.text,
                        s.cue_id,
                        s.cue_settings,
                        s.note,
                        s.words,
                    )
                    for s in current.segments
                ]
                entry["speakers"] = [
                    (s.label, s.display_name, s.person.name if s.person else None)
                    for s in i.speakers
                ]
                entry["index"] = [
                    (
                        p.start_ms,
                        p.title,
                        p.partial_transcript,
                        p.synopsis,
                        p.keywords,
                        p.subjects,
                        p.hyperlinks,
                    )
                    for p in current.index_points
                ]
            result["interviews"].append(entry)
        for d in db.session.scalars(select(Document).order_by(Document.title)):
            result["documents"].append(
                (
                    d.title,
                    d.doc_type,
                    d.date,
                    d.publisher,
                    d.description,
                    d.citation,
                    d.external_url,
                    d.access_level,
                    d.full_text,
                    [c.person.name for c in d.creators],
                    d.file_sha256,
                    d.file_name,
                    d.file_mime,
                )
            )
        result["mentions"] = sorted(
            (m.document.title, m.interview.accession, m.start_ms, m.end_ms, m.note)
            for m in db.session.scalars(select(Mention))
        )
        return result


def test_round_trip_into_a_fresh_archive(app, make_other_app, tmp_path):
    load_sample(app)
    enrich_sample(app)
    before = snapshot(app)
    sample_one = next(i for i in before["interviews"] if i["record"][0] == "OH-SAMPLE-001")
    assert sample_one["segments"] and sample_one["index"] and sample_one["recordings"]
    assert ("Dr. Ruth Adler", "Ruth Adler (historian)", "Ruth Adler") in sample_one["speakers"]
    dest = tmp_path / "export"

    output = ok(app, "export", dest)
    assert "restricted" in output
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["format"] == FORMAT and manifest["media_included"] is True
    assert {i["accession"] for i in manifest["interviews"]} == {
        "OH-DRAFT-1",
        "OH-SAMPLE-001",
        "OH-SAMPLE-002",
        "OH-SAMPLE-003",
    }
    first = next(i for i in manifest["interviews"] if i["accession"] == "OH-SAMPLE-001")
    assert first["transcript"]["file"] == "transcripts/OH-SAMPLE-001.vtt"
    assert [v["file"] for v in first["transcript_history"]] == ["transcripts/OH-SAMPLE-001.v1.vtt"]
    assert "(revised)" not in (dest / "transcripts" / "OH-SAMPLE-001.v1.vtt").read_text()
    hale = next(i for i in manifest["interviews"] if i["accession"] == "OH-SAMPLE-002")
    assert hale["transcript"]["version"] == 1  # restored as current, with a newer version 2
    assert [v["version"] for v in hale["transcript_history"]] == [2]
    assert "earlier versions" in output
    assert (dest / "transcripts" / "OH-SAMPLE-002.txt").read_text().startswith("TITLE:")
    sha = first["recordings"][0]["sha256"]
    assert (dest / "media" / sha).read_bytes() == SAMPLE_MP3.read_bytes()
    assert (dest / "README.txt").exists()
    assert "is not empty" in refused(app, "export", dest)
    assert "Exported" in ok(app, "export", dest, "--force")

    other = make_other_app()
    assert "would create" in ok(other, "import", dest, "--dry-run")
    assert state(other)["rows"]["interview"] == 0
    ok(other, "import", dest)
    after = snapshot(other)
    for key in ("collections", "people", "documents", "mentions"):
        assert after[key] == before[key], key
    assert len(after["interviews"]) == len(before["interviews"])
    for old, new in zip(before["interviews"], after["interviews"], strict=True):
        assert new == old, old["record"][0]
    assert "0 changed" in ok(other, "fixity")  # the copied files hash as recorded
    # Importing the same export again is refused: the accessions exist.
    assert "already used" in refused(other, "import", dest)


def test_export_without_media_imports_where_the_files_are(app, make_other_app, tmp_path):
    load_sample(app)
    dest = tmp_path / "catalogue-only"
    ok(app, "export", dest, "--no-media")
    assert not (dest / "media").exists()
    manifest = json.loads((dest / "manifest.json").read_text())
    recording = manifest["interviews"][0]["recordings"][0]
    assert recording["file"] is None and len(recording["sha256"]) == 64
    before = snapshot(app)

    other = make_other_app()
    output = refused(other, "import", dest)  # this archive lacks the audio
    assert "made without media" in output
    shutil.copytree(app.config["MEDIA_ROOT"], other.config["MEDIA_ROOT"], dirs_exist_ok=True)
    ok(other, "import", dest)  # the bytes are in its media storage now
    assert snapshot(other) == before


def test_export_refuses_a_changed_stored_file(app, tmp_path):
    from oralhist.models import Recording
    from oralhist.services.recordings import storage

    load_sample(app)
    with app.app_context():
        path = storage().path(db.session.scalar(select(Recording.storage_key)))
    os.chmod(path, 0o644)
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    output = refused(app, "export", tmp_path / "out")
    assert "has changed" in output and "fixity" in output


# --- hand-written manifests ----------------------------------------------------------------


VTT = """WEBVTT

00:00:00.000 --> 00:00:01.500
<v BARLOW>We lived two streets from the dock gates.

00:00:01.500 --> 00:00:03.000
<v ADLER>And in 1972?
"""


@pytest.fixture
def folder(tmp_path):
    """An import folder with the files the documented example manifest names."""
    root = tmp_path / "deposit"
    (root / "transcripts").mkdir(parents=True)
    (root / "scans").mkdir()
    (root / "tape1.wav").write_bytes(wav_bytes(2.0, 440))
    (root / "tape2.wav").write_bytes(wav_bytes(1.5, 660))
    (root / "transcripts" / "OH-1998-014.vtt").write_text(VTT)
    (root / "scans" / "leaflet.png").write_bytes(png_bytes())
    return root


def write_manifest(root: Path, manifest: dict) -> None:
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2))


def example() -> dict:
    return json.loads(EXAMPLE.read_text())


def test_the_documented_example_imports(app, folder):
    from oralhist.models import Interview, Person

    load_sample(app)  # Ruth Adler exists: matched, not duplicated
    shutil.copy(EXAMPLE, folder / "manifest.json")
    before = state(app)
    output = ok(app, "import", folder, "--dry-run")
    assert "2 interviews" in output and "Nothing was imported" in output
    assert state(app) == before
    output = ok(app, "import", folder)
    assert "Imported 2 interviews" in output
    with app.app_context():
        interview = db.session.scalar(select(Interview).where(Interview.accession == "OH-1998-014"))
        assert interview.status == "draft" and interview.collection.slug == "dock-strike-1972"
        assert [r.label for r in interview.recordings] == ["Tape 1, side A", "Tape 1, side B"]
        assert interview.duration_ms == 3500
        assert [(p.person.name, p.role) for p in interview.participants] == [
            ("Jean Barlow", "interviewee"),
            ("Ruth Adler", "interviewer"),
        ]
        assert (
            db.session.scalar(
                select(func.count()).select_from(Person).where(Person.name == "Ruth Adler")
            )
            == 1
        )
        barlow = next(s for s in interview.speakers if s.label == "BARLOW")
        assert barlow.name == "Jean Barlow" and barlow.person.name == "Jean Barlow"
        assert interview.current_transcript.index_points[0].title == "Childhood on the docks"
        untitled = db.session.scalar(
            select(Interview).where(Interview.title == "An interview with only a title")
        )
        assert untitled.accession.startswith("OH-")


def test_publish_flag_publishes(app, folder):
    from oralhist.models import Interview

    write_manifest(
        folder, {"interviews": [{"title": "Short", "recordings": [{"file": "tape1.wav"}]}]}
    )
    ok(app, "import", folder, "--publish")
    with app.app_context():
        assert db.session.scalar(select(Interview.status)) == "published"


# A damaged cue block is dropped with a warning (as browsers do); a time past 100 hours is
# refused.
BAD_VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello\n\n200:00:00.000 --> 200:00:02.000\nbad\n"


def _invalid_json(root: Path) -> None:
    (root / "manifest.json").write_text(
        '{\n  "interviews": [\n    {"title": "A"}\n    {"title": "B"}\n  ]\n}\n'
    )


def _missing_file(root: Path) -> None:
    write_manifest(root, {"interviews": [{"title": "A", "recordings": [{"file": "nope.wav"}]}]})


def _outside(root: Path) -> None:
    (root.parent / "secret.wav").write_bytes(wav_bytes(1.0))
    write_manifest(
        root, {"interviews": [{"title": "A", "recordings": [{"file": "../secret.wav"}]}]}
    )


def _duplicate_accession(root: Path) -> None:
    write_manifest(root, {"interviews": [{"title": "A", "accession": "OH-SAMPLE-001"}]})


def _bad_transcript(root: Path) -> None:
    (root / "bad.vtt").write_text(BAD_VTT)
    write_manifest(
        root,
        {
            "interviews": [
                {
                    "title": "A",
                    "recordings": [{"file": "tape1.wav"}],
                    "transcript": {"file": "bad.vtt"},
                }
            ]
        },
    )


def _unknown_key(root: Path) -> None:
    write_manifest(root, {"interviews": [{"title": "A", "titel": "typo"}]})


GOOD_VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello\n"


def _with_history(root: Path, current: dict, *history: dict) -> None:
    (root / "good.vtt").write_text(GOOD_VTT)
    entry = {"title": "A", "recordings": [{"file": "tape1.wav"}], "transcript_history": history}
    if current:
        entry["transcript"] = current
    write_manifest(root, {"interviews": [entry]})


def _history_twice(root: Path) -> None:
    _with_history(root, {"file": "good.vtt", "version": 2}, {"file": "good.vtt", "version": 2})


def _history_bad_fields(root: Path) -> None:
    _with_history(
        root, {"file": "good.vtt"}, {"file": "good.vtt", "version": 0, "created_at": "May 1956"}
    )


def _history_without_current(root: Path) -> None:
    _with_history(root, {}, {"file": "good.vtt"})


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (_invalid_json, ["manifest.json", "line 4, column 5", "invalid JSON"]),
        (_missing_file, ["interviews[0].recordings[0].file", "nope.wav does not exist"]),
        (_outside, ["interviews[0].recordings[0].file", "../secret.wav is outside the import"]),
        (
            _duplicate_accession,
            ["interviews[0] (OH-SAMPLE-001).accession", "already used in this archive"],
        ),
        (_bad_transcript, ["interviews[0].transcript.file", "bad.vtt, line 6", "100 hours"]),
        (_unknown_key, ["interviews[0]", "unknown key 'titel'"]),
        (_history_twice, ["interviews[0].transcript_history", "version 2 is given twice"]),
        (
            _history_bad_fields,
            [
                "interviews[0].transcript_history[0].version: must be a whole number",
                "interviews[0].transcript_history[0].created_at: must be an ISO 8601",
            ],
        ),
        (_history_without_current, ["earlier versions need a current transcript"]),
    ],
)
def test_bad_manifest_is_refused_and_nothing_is_created(app, folder, break_it, expected):
    load_sample(app)
    break_it(folder)
    before = state(app)
    for args in ((), ("--dry-run",)):
        output = refused(app, "import", folder, *args)
        for text in expected:
            assert text in output, output
        assert "nothing was imported" in output
    assert state(app) == before


def test_every_problem_is_reported_at_once(app, folder):
    write_manifest(
        folder,
        {
            "people": [{"key": "x"}],
            "interviews": [
                {"accession": "OH-1", "date_recorded": "1957-13", "access_level": "secret"},
                {"title": "B", "accession": "OH-1", "recordings": [{"file": "/etc/passwd"}]},
                {"title": "C", "recordings": [{"file": "scans/leaflet.png"}]},
            ],
            "mentions": [{"document": "none", "interview": "OH-9", "start_ms": 0, "end_ms": 1}],
        },
    )
    output = refused(app, "import", folder)
    for text in (
        "people[0].name: is required",
        "interviews[0] (OH-1).title: is required",
        "interviews[0] (OH-1).date_recorded: month 13 does not exist",
        "interviews[0] (OH-1).access_level: must be one of",
        "interviews[1] (OH-1).accession: OH-1 is listed twice",
        "interviews[1] (OH-1).recordings[0].file: /etc/passwd is an absolute path",
        "interviews[2].recordings[0].file: leaflet.png cannot be kept as a recording",
        "mentions[0].document",
        "mentions[0].interview",
    ):
        assert text in output, (text, output)


def test_a_failure_while_writing_leaves_no_rows_and_no_files(app, folder, monkeypatch):
    from oralhist.services import mentions

    load_sample(app)
    shutil.copy(EXAMPLE, folder / "manifest.json")
    before = state(app)

    def fail(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(mentions, "add_mention", fail)
    result = invoke(app, "import", folder)
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError)
    assert state(app) == before  # no rows; the stored WAVs and PNG are removed again


def test_an_import_that_loses_a_race_with_another_is_refused_cleanly(app, folder, monkeypatch):
    """Two ``oralhist import`` at once: both plans pass, the first commits, the second then
    finds its accession taken: a clear message, no traceback,
    nothing of the second import stored (it was a raw IntegrityError traceback)."""

    shutil.copy(EXAMPLE, folder / "manifest.json")
    real_plan = planner.plan_import

    def plan_while_another_import_runs(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        other = real_plan(*args, **kwargs)
        apply.apply_import(other)
        db.session.commit()
        return plan

    monkeypatch.setattr(planner, "plan_import", plan_while_another_import_runs)
    result = invoke(app, "import", folder)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Nothing was imported" in result.output
    assert "Traceback" not in result.output
    monkeypatch.setattr(planner, "plan_import", real_plan)
    after_first = state(app)
    assert invoke(app, "import", folder).exit_code == 1  # the plan now sees the first import
    assert state(app) == after_first


@pytest.mark.committing  # other processes write the database (tests/savepoints.py)
def test_two_imports_at_once_one_wins_the_other_says_why(app, folder):
    """Two real ``oralhist import`` processes on one archive (a file database; PostgreSQL when
    OH_TEST_DATABASE_URL names it), started together: one imports, the other exits 1 with a
    clear message and no traceback (it was a raw IntegrityError traceback), nothing doubled."""
    import os
    import subprocess
    import sys

    shutil.copy(EXAMPLE, folder / "manifest.json")
    env = {
        **os.environ,
        "OH_INSTANCE_PATH": app.instance_path,
        "OH_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "OH_MEDIA_ROOT": app.config["MEDIA_ROOT"],
        "OH_SEARCH_INDEX_DIR": app.config["SEARCH_INDEX_DIR"],
        "OH_OUTBOX_DIR": app.config["OUTBOX_DIR"],
        "OH_SECRET_KEY": "test",
    }
    command = [sys.executable, "-c", "from oralhist.cli import main; main()", "import", folder]
    processes = [
        subprocess.Popen(
            [str(part) for part in command],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    finished = [process.communicate(timeout=180) for process in processes]
    codes = sorted(process.returncode for process in processes)
    outputs = [out + err for out, err in finished]
    assert codes == [0, 1], outputs
    loser = next(o for o, p in zip(outputs, processes, strict=True) if p.returncode == 1)
    assert "nothing was imported" in loser.lower()
    assert "Traceback" not in loser
    with app.app_context():
        from oralhist.models import Interview

        accessions = db.session.scalars(select(Interview.accession)).all()
    assert sorted(accessions) == sorted(set(accessions)) and len(accessions) == 2


def test_help_texts_say_what_matters(app):
    assert "restricted" in ok(app, "export", "--help")
    text = ok(app, "import", "--help")
    assert "--dry-run" in text and "all or nothing" in text


def test_embargo_is_a_date(app, folder):
    write_manifest(folder, {"interviews": [{"title": "A", "embargo_until": "2040-01-01"}]})
    ok(app, "import", folder)
    from oralhist.models import Interview

    with app.app_context():
        assert db.session.scalar(select(Interview.embargo_until)) == dt.date(2040, 1, 1)


def test_hand_written_history_is_stored_oldest_first_with_its_dates(app, folder):
    from oralhist.models import Interview

    (folder / "first.vtt").write_text(GOOD_VTT)
    (folder / "final.vtt").write_text(GOOD_VTT.replace("Hello", "Hello again"))
    history = [{"file": "first.vtt", "created_at": "1999-05-01T10:00:00"}]
    write_manifest(
        folder,
        {
            "interviews": [
                {
                    "title": "A",
                    "recordings": [{"file": "tape1.wav"}],
                    "transcript": {"file": "final.vtt"},
                    "transcript_history": history,
                }
            ]
        },
    )
    assert "1 earlier versions" in ok(app, "import", folder, "--dry-run")
    ok(app, "import", folder)
    with app.app_context():
        interview = db.session.scalar(select(Interview))
        found = [
            (t.version, t.is_current, t.segments[0].text, t.created_at.year == 1999)
            for t in transcript_versions.versions(interview)
        ]
    assert found == [(2, True, "Hello again", False), (1, False, "Hello", True)]


def test_a_transcript_txt_cannot_hold_is_exported_as_json(app, make_other_app, tmp_path):
    """Plain text cannot say 'no speaker' after a speaker's turn: the export reads each file
    back and falls back to the lossless JSON format (with a warning)."""
    from oralhist.models import Interview
    from oralhist.services.sample import LOADER

    load_sample(app)
    with app.app_context():
        hale = db.session.scalar(select(Interview).where(Interview.accession == "OH-SAMPLE-002"))
        second = transcript_versions.current_transcript(hale).segments[1]
        transcript_speakers.reassign_segment(LOADER, second, None)
        db.session.commit()
    before = snapshot(app)
    dest = tmp_path / "out"
    output = ok(app, "export", dest, "--no-media")
    assert "OH-SAMPLE-002 cannot be written as txt" in output
    assert (dest / "transcripts" / "OH-SAMPLE-002.json").exists()
    other = make_other_app()
    shutil.copytree(app.config["MEDIA_ROOT"], other.config["MEDIA_ROOT"], dirs_exist_ok=True)
    ok(other, "import", dest)
    assert snapshot(other) == before


def test_word_timings_cue_ids_and_footnotes_survive_export_and_import(
    app, make_other_app, tmp_path
):
    """Issue 13: what the new transcript fields hold is kept by the archive's own export."""
    from oralhist.models import Interview
    from oralhist.services import transcripts
    from oralhist.services.sample import LOADER

    vtt = (
        "WEBVTT\n\nq1\n00:00:01.000 --> 00:00:03.000 align:start\n"
        "<v Ann>One <00:00:01.500>two\n\nNOTE footnote\n[1] A source.\n\n"
        "00:00:03.000 --> 00:00:04.000\n<v Bob>Three.\n"
    )
    load_sample(app)
    with app.test_request_context():
        hale = db.session.scalar(select(Interview).where(Interview.accession == "OH-SAMPLE-002"))
        transcripts.import_transcript(LOADER, hale, vtt.encode(), "words.vtt")
        db.session.commit()
    before = snapshot(app)
    kept = next(e for e in before["interviews"] if e["record"][0] == "OH-SAMPLE-002")["segments"]
    assert kept[0][5:8] == ("q1", "align:start", "[1] A source.")
    assert kept[0][8] == [["One", 1000, 1500, None], ["two", 1500, 3000, None]]
    dest = tmp_path / "out"
    ok(app, "export", dest, "--no-media")
    other = make_other_app()
    shutil.copytree(app.config["MEDIA_ROOT"], other.config["MEDIA_ROOT"], dirs_exist_ok=True)
    ok(other, "import", dest)
    assert snapshot(other) == before
