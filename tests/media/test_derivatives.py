"""Derivatives of recordings: access copies and waveforms made by jobs at ingest, content
addressed, streamed to listeners in place of the master, checked by fixity and made again
when lost, gone with their master."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest

from oralhist import jobs
from oralhist.extensions import db
from oralhist.media import audio, derivatives
from oralhist.models import Derivative, Interview, Job, Recording
from tests.conftest import testdata as shared
from tests.recordings.conftest import upload, wav_bytes

ROLES = (None, "researcher", "contributor", "contributor2", "archivist")


def fetch(client, url, **kw):
    """GET a file route, read its body and close it (a streamed file response holds the
    file open until closed)."""
    response = client.get(url, **kw)
    response.get_data()
    response.close()
    return response


def _interview(app, users, *, level="open", status="published") -> int:
    with app.app_context():
        interview = Interview(
            title=f"Derivatives {level}",
            accession=f"OH-DER-{level}-{status}",
            access_level=level,
            status=status,
            created_by_id=users["contributor"],
        )
        db.session.add(interview)
        db.session.commit()
        return interview.id


@pytest.fixture
def open_iid(app, users):
    return _interview(app, users)


def _upload(browser, iid, content, name="master.wav", role="archivist") -> int:
    response = upload(browser(role), iid, content, name)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json["id"]


def _current(app, rid, kind):
    with app.app_context():
        row = derivatives.current(db.session.get(Recording, rid), kind)
        if row is not None:
            db.session.expunge(row)
        return row


def _jobs_of(app, rid):
    with app.app_context():
        return sorted(
            (job.kind, job.status)
            for job in db.session.query(Job).filter_by(recording_id=rid).all()
        )


def test_an_upload_queues_its_access_copy_and_waveform(app, browser, open_iid):
    rid = _upload(browser, open_iid, wav_bytes(2.0, rate=16_000))
    assert _jobs_of(app, rid) == [
        ("derivative.access", "queued"),
        ("derivative.waveform", "queued"),
    ]
    assert jobs.run_pending(app) == 2
    assert _jobs_of(app, rid) == [("derivative.access", "done"), ("derivative.waveform", "done")]
    access = _current(app, rid, "access")
    assert (access.mime, access.codec) == ("audio/mpeg", "mp3")
    assert "LAME" in access.made_with and "PyAV" in access.made_with
    with app.app_context():
        master = db.session.get(Recording, rid)
        assert access.sha256 != master.sha256  # a new file: the master is untouched
        from oralhist.services.recordings import storage

        assert storage().hash(master.storage_key) == master.sha256
        assert storage().hash(access.storage_key) == access.sha256


@pytest.mark.parametrize(
    ("rate", "samples"), [(16_000, 55_312), (22_050, 76_213), (48_000, 95_999)]
)
def test_the_access_copy_keeps_the_masters_duration_to_the_millisecond(
    app, browser, open_iid, tmp_path, rate, samples
):
    content = wav_bytes(samples / rate, rate=rate)
    rid = _upload(browser, open_iid, content)
    jobs.run_pending(app)
    access = _current(app, rid, "access")
    with app.app_context():
        master_ms = db.session.get(Recording, rid).duration_ms
        from oralhist.services.recordings import storage

        with storage().local_file(access.storage_key) as path:
            as_played = audio.probe(path).duration_ms  # the MP3's header, as a player reads it
            as_decoded = audio.probe(path, exact=True).duration_ms
    assert master_ms == round(samples * 1000 / rate)
    assert access.duration_ms == master_ms
    assert as_played == master_ms
    assert as_decoded == master_ms


def test_the_player_streams_the_access_copy_and_download_sends_the_master(app, browser, open_iid):
    rid = _upload(browser, open_iid, wav_bytes(1.0, rate=16_000))
    before = fetch(browser(None), f"/recordings/{rid}/audio", headers={"Range": "bytes=0-99"})
    assert before.status_code == 206 and before.mimetype == "audio/wav"  # no copy yet
    jobs.run_pending(app)
    access = _current(app, rid, "access")
    for role in ROLES:
        played = fetch(browser(role), f"/recordings/{rid}/audio", headers={"Range": "bytes=0-99"})
        assert played.status_code == 206, role
        assert played.mimetype == "audio/mpeg", role
        assert played.headers["ETag"].strip('"') == access.sha256
        assert played.headers["Content-Range"] == f"bytes 0-99/{access.size}"
    whole = fetch(browser(None), f"/recordings/{rid}/audio")
    assert whole.status_code == 200 and whole.data[:3] in (b"ID3", b"\xff\xfb")
    download = fetch(browser("archivist"), f"/recordings/{rid}/download")
    assert download.status_code == 200 and download.mimetype == "audio/wav"
    assert download.data[:4] == b"RIFF"


def test_a_listen_only_grant_streams_the_access_copy_never_the_master(app, browser, users):
    iid = _interview(app, users, level="restricted")
    rid = _upload(browser, iid, wav_bytes(1.0, rate=16_000))
    jobs.run_pending(app)
    researcher = browser("researcher")
    asked = researcher.post(
        f"/api/v1/interviews/{iid}/access-requests",
        json={
            "purpose": "A study of the strike, for a dissertation chapter.",
            "intended_use": "research",
            "agree_terms": True,
        },
    )
    assert asked.status_code == 201, asked.get_data(as_text=True)
    approved = browser("archivist").post(
        f"/api/v1/access-requests/{asked.json['id']}/approve", json={"scope": "listen"}
    )
    assert approved.status_code == 200
    played = fetch(researcher, f"/recordings/{rid}/audio", headers={"Range": "bytes=0-"})
    assert played.status_code == 206 and played.mimetype == "audio/mpeg"
    assert fetch(researcher, f"/recordings/{rid}/audio").status_code == 403  # no whole file
    assert fetch(researcher, f"/recordings/{rid}/download").status_code == 403


def test_a_format_browsers_cannot_play_becomes_playable_through_its_access_copy(
    app, browser, open_iid
):
    wma = shared("mutagen", "data", "silence-1.wma").read_bytes()
    rid = _upload(browser, open_iid, wma, "tape.wma")
    page = browser(None).get(f"/interviews/{open_iid}").get_data(as_text=True)
    assert "needs an access copy" in page
    assert 'data-playable="false"' in page
    jobs.run_pending(app)
    page = browser(None).get(f"/interviews/{open_iid}").get_data(as_text=True)
    assert "needs an access copy" not in page
    assert 'data-playable="true"' in page
    played = fetch(browser(None), f"/recordings/{rid}/audio", headers={"Range": "bytes=0-"})
    assert played.status_code == 206 and played.mimetype == "audio/mpeg"
    with app.app_context():
        master = db.session.get(Recording, rid)
        assert not master.browser_playable  # the master is what it is
    assert abs(_current(app, rid, "access").duration_ms - master.duration_ms) <= 30


# --- the waveform ------------------------------------------------------------------------------


def test_the_waveform_api_serves_audiowaveform_json_to_listeners(app, browser, users):
    iid = _interview(app, users, level="registered")
    rid = _upload(browser, iid, wav_bytes(3.0, rate=16_000))
    url = f"/api/v1/recordings/{rid}/waveform"
    pending = fetch(browser("archivist"), url)
    assert pending.status_code == 404 and pending.json["error"]["code"] == "not_ready"
    jobs.run_pending(app)
    expected = {None: 401, "researcher": 200, "contributor": 200, "contributor2": 200}
    expected["archivist"] = 200
    for role, status in expected.items():
        assert fetch(browser(role), url).status_code == status, role
    body = fetch(browser("researcher"), url).json
    assert {k: body[k] for k in ("version", "channels", "bits", "sample_rate")} == {
        "version": 2,
        "channels": 1,
        "bits": 8,
        "sample_rate": 8000,
    }
    assert body["samples_per_pixel"] == 3200
    assert body["length"] == math.ceil(3.0 * 8000 / 3200)
    assert len(body["data"]) == 2 * body["length"]
    pairs = np.array(body["data"]).reshape(-1, 2)
    assert (pairs[:, 0] <= pairs[:, 1]).all()
    assert pairs.min() >= -128 and pairs.max() <= 127
    assert pairs[:, 1].max() > 20  # the tone (amplitude 8000 of 32767) is there
    etag = fetch(browser("researcher"), url).headers["ETag"]
    assert fetch(browser("researcher"), url, headers={"If-None-Match": etag}).status_code == 304
    info = browser("researcher").get(f"/api/v1/recordings/{rid}").json
    assert info["waveform_url"].endswith(url) and info["access_copy"] is True


def test_the_waveform_of_a_draft_or_closed_interview_is_not_for_others(app, browser, users):
    draft = _interview(app, users, status="draft")
    closed = _interview(app, users, level="closed")
    rids = {
        "draft": _upload(browser, draft, wav_bytes(1.0, freq=500)),
        "closed": _upload(browser, closed, wav_bytes(1.0, freq=600)),
    }
    jobs.run_pending(app)
    expected = {
        "draft": {None: 404, "researcher": 404, "contributor": 200, "contributor2": 404},
        "closed": {None: 401, "researcher": 403, "contributor": 200, "contributor2": 403},
    }
    for name, rid in rids.items():
        for role, status in expected[name].items():
            got = fetch(browser(role), f"/api/v1/recordings/{rid}/waveform").status_code
            assert got == status, (name, role)
        assert fetch(browser("archivist"), f"/api/v1/recordings/{rid}/waveform").status_code == 200


# --- content addressing, fixity, deletion --------------------------------------------------------


def test_the_same_master_bytes_share_their_derivatives(app, browser, users, open_iid):
    content = wav_bytes(1.0, freq=700)
    first = _upload(browser, open_iid, content)
    jobs.run_pending(app)
    other = _interview(app, users, level="registered")
    second = _upload(browser, other, content, "copy.wav")
    assert _jobs_of(app, second) == []  # nothing to make: the derivatives exist
    assert _current(app, second, "access").id == _current(app, first, "access").id


def test_a_new_recipe_version_is_a_new_derivative(app, browser, open_iid, monkeypatch):
    rid = _upload(browser, open_iid, wav_bytes(1.0, freq=800))
    jobs.run_pending(app)
    assert _current(app, rid, "waveform") is not None
    recipe = derivatives.RECIPES["waveform"]
    monkeypatch.setitem(
        derivatives.RECIPES,
        "waveform",
        derivatives.Recipe(recipe.kind, recipe.make, recipe.title, recipe.mime, recipe.version + 1),
    )
    assert _current(app, rid, "waveform") is None
    with app.app_context():
        job = derivatives.request(db.session.get(Recording, rid), "waveform")
        db.session.commit()
        assert job is not None and job.kind == "derivative.waveform"
    jobs.run_pending(app)
    assert _current(app, rid, "waveform") is not None


def test_fixity_checks_derivatives_and_makes_a_lost_one_again(app, browser, open_iid):
    rid = _upload(browser, open_iid, wav_bytes(1.0, freq=900))
    jobs.run_pending(app)
    access = _current(app, rid, "access")
    with app.app_context():
        from oralhist.services.recordings import storage

        storage().delete(access.storage_key)  # lost (a disk error, a careless hand)
    fallback = fetch(browser(None), f"/recordings/{rid}/audio", headers={"Range": "bytes=0-9"})
    assert fallback.status_code == 206 and fallback.mimetype == "audio/wav"  # the master
    result = app.test_cli_runner().invoke(args=["fixity"])
    assert result.exit_code != 0
    with app.app_context():
        from oralhist.models import FixityCheck

        report = db.session.query(FixityCheck).one().report
    assert report["missing"] == [
        {"key": access.storage_key, "used_by": [f"access derivative {access.id}"]}
    ]
    assert len(report["derivatives_remade"]) == 1
    jobs.run_pending(app)
    again = _current(app, rid, "access")
    assert again.id == access.id and again.sha256 == access.sha256  # the same bytes again
    assert app.test_cli_runner().invoke(args=["fixity"]).exit_code == 0
    played = fetch(browser(None), f"/recordings/{rid}/audio", headers={"Range": "bytes=0-9"})
    assert played.mimetype == "audio/mpeg"


def test_deleting_a_recording_removes_its_derivatives(app, browser, open_iid):
    rid = _upload(browser, open_iid, wav_bytes(1.0, freq=1000))
    jobs.run_pending(app)
    keys = [_current(app, rid, kind).storage_key for kind in ("access", "waveform")]
    assert browser("archivist").delete(f"/api/v1/recordings/{rid}").status_code == 204
    with app.app_context():
        from oralhist.services.recordings import storage

        assert db.session.query(Derivative).count() == 0
        assert not any(storage().exists(key) for key in keys)


def test_a_recording_deleted_before_its_job_ran_fails_the_job_plainly(app, browser, open_iid):
    rid = _upload(browser, open_iid, wav_bytes(1.0, freq=1100))
    with app.app_context():
        ids = [j.id for j in db.session.query(Job).filter_by(recording_id=rid)]
    assert browser("archivist").delete(f"/api/v1/recordings/{rid}").status_code == 204
    with app.app_context():
        assert db.session.query(Job).filter(Job.id.in_(ids)).count() == 0  # gone with it
    assert jobs.run_pending(app) == 0


def test_a_recipe_that_fails_leaves_no_file_and_no_row(app, browser, open_iid, monkeypatch):
    from oralhist.errors import ValidationError
    from tests.recordings.conftest import media_files

    _upload(browser, open_iid, wav_bytes(1.0, freq=1200))
    before = media_files(app)

    def broken(making):
        (making.workdir / "half.mp3").write_bytes(b"half")
        raise ValidationError(f"{making.name}: the encoder gave up.")

    recipe = derivatives.RECIPES["access"]
    monkeypatch.setitem(
        derivatives.RECIPES,
        "access",
        derivatives.Recipe("access", broken, recipe.title, recipe.mime, recipe.version),
    )
    jobs.run_pending(app)
    with app.app_context():
        failed = db.session.query(Job).filter_by(kind="derivative.access").one()
        assert failed.status == "failed" and failed.error == "master.wav: the encoder gave up."
        assert db.session.query(Derivative).filter_by(kind="access").count() == 0
    after = [p for p in media_files(app) if p not in before]
    assert len(after) == 1  # the waveform's file, nothing of the failed access copy


def test_derivatives_make_queues_what_an_older_archive_lacks(app, browser, open_iid):
    rid = _upload(browser, open_iid, wav_bytes(1.0, freq=1300))
    with app.app_context():
        db.session.query(Job).delete()
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["derivatives", "make"])
    assert result.exit_code == 0 and "2 jobs queued" in result.output
    again = app.test_cli_runner().invoke(args=["derivatives", "make", "--kind", "access"])
    assert "1 jobs queued or already running" in again.output  # the same job, not a second
    jobs.run_pending(app)
    done = app.test_cli_runner().invoke(args=["derivatives", "make"])
    assert "Every recording has its derivatives." in done.output
    assert _current(app, rid, "waveform") is not None


def test_derivatives_make_replaces_what_an_older_recipe_made(app, browser, open_iid, monkeypatch):
    """A recipe's new version (the access copy's move to 24 kHz): ``derivatives make``
    queues the new copies and forgets the old ones, rows and files."""
    from oralhist.services.recordings import storage

    rid = _upload(browser, open_iid, wav_bytes(1.0, freq=900))
    jobs.run_pending(app)
    old = _current(app, rid, "access")
    recipe = derivatives.RECIPES["access"]
    monkeypatch.setitem(
        derivatives.RECIPES,
        "access",
        derivatives.Recipe(recipe.kind, recipe.make, recipe.title, recipe.mime, recipe.version + 1),
    )
    result = app.test_cli_runner().invoke(args=["derivatives", "make"])
    assert result.exit_code == 0, result.output
    assert "1 derivatives made by an older recipe forgotten" in result.output
    assert "1 jobs queued" in result.output
    with app.app_context():
        assert db.session.get(Derivative, old.id) is None
        assert not storage().exists(old.storage_key)  # nothing else used the file
    jobs.run_pending(app)
    new = _current(app, rid, "access")
    assert new is not None and new.id != old.id
    assert _current(app, rid, "waveform") is not None  # today's waveform is kept


def test_the_sample_archive_gets_its_derivatives(app):
    from oralhist.services import sample

    with app.app_context():
        sample.load_sample()
        db.session.commit()
        kinds = sorted(job.kind for job in db.session.query(Job))
        masters = len({r.sha256 for r in db.session.query(Recording)})
    assert masters >= 2  # the timed sample interview and the untimed one (for alignment)
    assert kinds == ["derivative.access"] * masters + ["derivative.waveform"] * masters
    jobs.run_pending(app)
    with app.app_context():
        assert db.session.query(Derivative).count() == 2 * masters


def test_the_access_copy_of_a_stereo_master_is_mono_and_complete(app, browser, open_iid):
    import wave

    rate, seconds = 16_000, 1.5
    left = (8000 * np.sin(np.arange(int(rate * seconds)) * 0.05)).astype("<i2")
    frames = np.column_stack([left, -left]).tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    rid = _upload(browser, open_iid, buffer.getvalue(), "stereo.wav")
    jobs.run_pending(app)
    access = _current(app, rid, "access")
    assert access.duration_ms == 1500
    with app.app_context():
        from oralhist.services.recordings import storage

        with storage().local_file(access.storage_key) as path:
            assert audio.probe(path).channels == 1
    waveform = fetch(browser(None), f"/api/v1/recordings/{rid}/waveform").json
    assert json.dumps(waveform)  # JSON, served
