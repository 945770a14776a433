"""The audio served for a redacted interview, decoded from what goes over HTTP (whole files
and Range requests): listening gets the silenced access copy (MP3), whose redacted span is
silent and the rest close to the master (lossy), with the master's duration; a download gets
the silenced copy in the master's format (a WAV), silent in the span and equal to the master
sample for sample elsewhere; archivists get the master; lifting serves the master again.
Both copies are derivatives (``media/derivatives.py``): made by jobs, content-addressed."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from oralhist.extensions import db

RATE = 8000
SECONDS = 30


def master_wav(channels: int = 1, width: int = 2) -> bytes:
    t = np.arange(RATE * SECONDS) / RATE
    signal = (0.5 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 97 * t)) * 20000
    samples = np.repeat(signal.astype("<i2"), channels)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    return out.getvalue()


def decode(data: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(data), "rb") as r:
        assert r.getframerate() == RATE
        return np.frombuffer(r.readframes(r.getnframes()), dtype="<i2").astype(np.int64)


def decode_mp3(data: bytes) -> np.ndarray:
    """An MP3 as served, decoded (FFmpeg trims the encoder delay and padding as browsers
    do) and resampled to the master's rate."""
    from oralhist.media import audio

    return audio.decode_all(io.BytesIO(data), rate=RATE).astype(np.int64)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if len(samples) else 0.0


def by_ranges(client, url: str, size: int, chunk: int = 65536) -> bytes:
    """The file as a player fetches it: consecutive Range requests."""
    parts = []
    for start in range(0, size, chunk):
        response = client.get(url, headers={"Range": f"bytes={start}-{start + chunk - 1}"})
        assert response.status_code == 206
        parts.append(response.data)
        response.close()
    return b"".join(parts)


@pytest.fixture
def recorded(app, archive, viewer_for):
    from oralhist.models import Interview
    from oralhist.services import recordings

    with app.test_request_context():
        interview = db.session.get(Interview, archive["interview"])
        recording = recordings.add_recording(
            viewer_for("archivist"), interview, io.BytesIO(master_wav()), "tape.wav"
        )
        db.session.commit()
        return recording.id


def make_copies(app) -> int:
    """Queue the missing silenced copies and run their jobs (what the worker does)."""
    from oralhist.services import redacted_audio

    with app.app_context():
        return redacted_audio.make_pending()


def _redact(browser, iid: int, start_ms: int, end_ms: int) -> int:
    made = browser("archivist").post(
        f"/api/v1/interviews/{iid}/redactions",
        json={"start_ms": start_ms, "end_ms": end_ms, "reason": "third party"},
    )
    assert made.status_code == 201, made.json
    return made.json["id"]


def test_listeners_hear_the_silenced_access_copy(app, browser, archive, recorded):
    iid = archive["interview"]
    master = decode(master_wav())
    span = (10500, 12000)
    _redact(browser, iid, *span)
    researcher = browser("researcher")
    # until the copy is made, listeners get a 503 that says so, never the master
    pending = researcher.get(f"/recordings/{recorded}/audio")
    assert pending.status_code == 503 and pending.headers["Retry-After"]
    assert "being prepared" in pending.get_data(as_text=True)
    assert make_copies(app) == 2  # the listening copy and the download copy
    assert make_copies(app) == 0  # content-addressed: made once

    url = f"/recordings/{recorded}/audio"
    whole = researcher.get(url)
    assert whole.status_code == 200 and whole.mimetype == "audio/mpeg"
    data = whole.data
    whole.close()
    assert by_ranges(researcher, url, len(data)) == data  # the player's Range requests
    from oralhist.media import audio

    assert audio.probe(io.BytesIO(data)).duration_ms == SECONDS * 1000  # as a player reads
    served = decode_mp3(data)
    assert abs(len(served) - len(master)) <= 1  # the same duration
    a, b = span[0] * RATE // 1000, span[1] * RATE // 1000
    edge = RATE // 20  # 50 ms: an MP3 frame's transform reaches across the span's edges
    assert rms(master[a:b]) > 1000 and rms(served[a + edge : b - edge]) < 2.0
    for outside in (slice(RATE, a - edge), slice(b + edge, len(master) - RATE)):
        error = rms(served[outside] - master[outside]) / rms(master[outside])
        assert error < 0.2, error
    # archivists get the master (no plain access copy is made in this test)
    archivist = browser("archivist").get(url)
    assert np.array_equal(decode(archivist.data), master)
    archivist.close()


def test_a_download_gets_the_silenced_wav_sample_exact(app, browser, archive, recorded):
    iid = archive["interview"]
    master = decode(master_wav())
    span = (10500, 12000)
    _redact(browser, iid, *span)
    make_copies(app)
    downloader = browser("contributor2")  # open interview: anyone signed in may download
    url = f"/recordings/{recorded}/download"
    whole = downloader.get(url)
    assert whole.status_code == 200 and whole.mimetype == "audio/wav"
    assert (
        whole.headers["Content-Disposition"].endswith('.wav"')
        or ".wav" in (whole.headers["Content-Disposition"])
    )
    served = decode(whole.data)
    whole.close()
    assert len(served) == len(master)  # the same duration, to the sample
    a, b = span[0] * RATE // 1000, span[1] * RATE // 1000
    assert not served[a:b].any() and rms(master[a:b]) > 1000
    assert np.array_equal(served[:a], master[:a]) and np.array_equal(served[b:], master[b:])
    # a Range request into the span: silence (44-byte header, 2 bytes a frame)
    start = 44 + (a + 100) * 2
    ranged = downloader.get(url, headers={"Range": f"bytes={start}-{start + 1999}"})
    assert ranged.status_code == 206
    chunk = np.frombuffer(ranged.data, dtype="<i2")
    ranged.close()
    assert len(chunk) == 1000 and not chunk.any()
    # and one across the span's start: the master's samples, then silence
    start = 44 + (a - 500) * 2
    ranged = downloader.get(url, headers={"Range": f"bytes={start}-{start + 1999}"})
    chunk = np.frombuffer(ranged.data, dtype="<i2").astype(np.int64)
    ranged.close()
    assert np.array_equal(chunk[:500], master[a - 500 : a]) and not chunk[500:].any()


def test_lifting_the_redaction_serves_the_master_again(app, browser, archive, recorded):
    iid = archive["interview"]
    rid = _redact(browser, iid, 1000, 2000)
    make_copies(app)
    silenced = browser("researcher").get(f"/recordings/{recorded}/audio")
    assert silenced.status_code == 200 and silenced.mimetype == "audio/mpeg"
    silenced.close()
    assert browser("archivist").delete(f"/api/v1/redactions/{rid}").status_code == 204
    again = browser("researcher").get(f"/recordings/{recorded}/audio")
    assert again.status_code == 200 and np.array_equal(decode(again.data), decode(master_wav()))
    again.close()


def test_a_tone_fills_the_span_when_the_archive_asks(app, browser, archive, recorded):
    app.config["REDACTION_TONE_HZ"] = 1000
    iid = archive["interview"]
    _redact(browser, iid, 5000, 6000)
    make_copies(app)
    a, b = 5000 * RATE // 1000, 6000 * RATE // 1000
    downloaded = browser("contributor2").get(f"/recordings/{recorded}/download")
    samples = decode(downloaded.data)
    downloaded.close()
    assert 2000 < rms(samples[a:b]) < 2500  # -20 dBFS sine: 0.1 * 32767 / sqrt(2)
    assert np.array_equal(samples[:a], decode(master_wav())[:a])
    listened = browser("researcher").get(f"/recordings/{recorded}/audio")
    heard = decode_mp3(listened.data)
    listened.close()
    edge = RATE // 20
    assert 1500 < rms(heard[a + edge : b - edge]) < 3000  # the tone, through LAME


def test_frame_spans_round_outwards_and_merge():
    from oralhist.media.redact import frame_spans

    assert frame_spans([(1001, 1999)], 1000, 10_000) == [(1001, 1999)]
    assert frame_spans([(1, 2)], 44100, 10**6) == [(44, 89)]
    assert frame_spans([(0, 10), (5, 20), (30, 40)], 1000, 35) == [(0, 20), (30, 35)]


def test_a_redaction_queues_the_derivative_jobs_that_make_the_copies(
    app, browser, archive, recorded
):
    from oralhist import jobs
    from oralhist.models import Derivative, Job

    iid = archive["interview"]
    _redact(browser, iid, 3000, 4000)
    kinds = ["derivative.redacted-access", "derivative.redacted-master"]
    with app.app_context():
        queued = db.session.query(Job).filter(Job.kind.in_(kinds)).order_by(Job.kind).all()
        assert [(j.kind, j.status, j.recording_id) for j in queued] == [
            (kind, "queued", recorded) for kind in kinds
        ]
        db.session.rollback()
    jobs.run_pending(app, kinds=kinds)
    with app.app_context():
        done = db.session.query(Job).filter(Job.kind.in_(kinds)).all()
        assert {j.status for j in done} == {"done"}
        rows = db.session.query(Derivative).order_by(Derivative.kind).all()
        assert [(r.kind, r.mime, r.params["spans"]) for r in rows] == [
            ("redacted-access", "audio/mpeg", [[3000, 4000]]),
            ("redacted-master", "audio/wav", [[3000, 4000]]),
        ]
        assert all(r.duration_ms == SECONDS * 1000 for r in rows)
        db.session.rollback()
    served = browser("researcher").get(f"/recordings/{recorded}/audio")
    assert served.status_code == 200
    samples = decode_mp3(served.data)
    served.close()
    assert rms(samples[3 * RATE + 400 : 4 * RATE - 400]) < 2.0


def test_a_changed_redaction_makes_new_copies_and_a_lost_one_is_made_again(
    app, browser, archive, recorded
):
    from oralhist.models import Derivative
    from oralhist.services import fixity
    from oralhist.services.recordings import storage
    from oralhist.transaction import unit_of_work

    iid = archive["interview"]
    rid = _redact(browser, iid, 3000, 4000)
    make_copies(app)
    assert browser("archivist").patch(f"/api/v1/redactions/{rid}", json={"end_ms": 4500})
    assert make_copies(app) == 2  # new ranges: new copies
    with app.app_context():
        listening = (
            db.session.query(Derivative)
            .filter_by(kind="redacted-access")
            .order_by(Derivative.id.desc())
            .first()
        )
        assert listening.params["spans"] == [[3000, 4500]]
        key, sha = listening.storage_key, listening.sha256
        storage().delete(key)  # lost
        with unit_of_work():
            fixity.run_fixity_check()
        db.session.rollback()
    # while it is being made again, listeners are told so (never the master)
    assert browser("researcher").get(f"/recordings/{recorded}/audio").status_code == 503
    from oralhist import jobs

    jobs.run_pending(app)
    with app.app_context():
        assert storage().exists(key) and storage().hash(key) == sha  # the same bytes again


def test_a_lossless_non_wav_master_gives_a_silenced_browser_copy(app, browser, archive, viewer_for):
    """A FLAC master: listening gets the silenced MP3; the download copy is AAC in MP4
    (decoded through ``media.audio``), silent in the span, close to the master elsewhere
    (lossy), and as long as the master."""
    pytest.importorskip("av")
    from oralhist.media import audio
    from oralhist.models import Interview
    from oralhist.services import recordings

    flac = io.BytesIO()
    audio.encode(
        io.BytesIO(master_wav()),
        flac,
        container_format="flac",
        codec="flac",
        rate=RATE,
        channels=1,
        bit_rate=None,
    )
    with app.test_request_context():
        interview = db.session.get(Interview, archive["interview"])
        rid = recordings.add_recording(
            viewer_for("archivist"), interview, io.BytesIO(flac.getvalue()), "tape.flac"
        ).id
        db.session.commit()
    iid = archive["interview"]
    browser("archivist").post(
        f"/api/v1/interviews/{iid}/redactions",
        json={"start_ms": 10000, "end_ms": 12000, "reason": "r"},
    )
    assert make_copies(app) == 2
    listened = browser("researcher").get(f"/recordings/{rid}/audio")
    assert listened.status_code == 200 and listened.mimetype == "audio/mpeg"
    heard = decode_mp3(listened.data)
    listened.close()
    assert rms(heard[10 * RATE + 400 : 12 * RATE - 400]) < 2.0
    served = browser("contributor2").get(f"/recordings/{rid}/download")
    assert served.status_code == 200 and served.mimetype == "audio/mp4"
    copy = audio.decode_all(io.BytesIO(served.data), rate=RATE, channels=1).astype(np.int64)
    served.close()
    master = decode(master_wav())
    # aligned at the start (the encoder's priming is trimmed); AAC pads the end to a whole
    # 1,024-sample frame, which a decoder may return as trailing silence
    assert 0 <= len(copy) - len(master) < 1024
    assert rms(copy[len(master) :]) < 50
    a, b = 10 * RATE + RATE // 10, 12 * RATE - RATE // 10  # inside, clear of codec edges
    assert rms(copy[a:b]) < 50 and rms(master[a:b]) > 1000
    outside = slice(2 * RATE, 8 * RATE)
    error = rms(copy[outside] - master[outside]) / rms(master[outside])
    assert error < 0.2


@pytest.mark.parametrize("role", [None, "researcher", "contributor", "contributor2", "archivist"])
def test_each_role_gets_the_copy_its_access_calls_for(app, browser, archive, recorded, role):
    """Open interview, one redaction: everyone but archivists streams the silenced access
    copy and downloads the silenced WAV (the depositor included: a redaction protects a third
    party from every reader); archivists get the master from both."""
    from oralhist.media import derivatives
    from oralhist.models import Recording
    from oralhist.services import redacted_audio

    _redact(browser, archive["interview"], 2000, 3000)
    make_copies(app)
    with app.test_request_context():
        recording = db.session.get(Recording, recorded)
        params = redacted_audio.params_of(recording)
        listen = derivatives.current(recording, redacted_audio.LISTEN, params).sha256
        download = derivatives.current(recording, redacted_audio.DOWNLOAD, params).sha256
        master = recording.sha256
    client = browser(role)
    streamed = client.get(f"/recordings/{recorded}/audio", headers={"Range": "bytes=0-99"})
    downloaded = client.get(f"/recordings/{recorded}/download")
    etags = (streamed.headers.get("ETag", "").strip('"'), downloaded.headers.get("ETag", ""))
    assert streamed.status_code == 206 and downloaded.status_code == 200, (role, etags)
    streamed.close()
    downloaded.close()
    expected = (master, master) if role == "archivist" else (listen, download)
    assert (etags[0], etags[1].strip('"')) == expected


def test_a_redact_audio_job_from_before_the_upgrade_queues_the_derivatives(
    app, browser, archive, recorded
):
    """Migration 0013: a ``redact_audio`` job queued by the older code still runs, and
    queues the silenced copies as derivative jobs."""
    from oralhist import jobs
    from oralhist.models import Interview, Job

    _redact(browser, archive["interview"], 2000, 3000)
    with app.app_context():
        for job in db.session.query(Job).filter(Job.kind.like("derivative.redacted-%")):
            db.session.delete(job)
        jobs.enqueue("redact_audio", interview=db.session.get(Interview, archive["interview"]))
        db.session.commit()
    jobs.run_pending(app, kinds=["redact_audio"])
    with app.app_context():
        legacy = db.session.query(Job).filter_by(kind="redact_audio").one()
        assert legacy.status == "done" and legacy.result == {"queued": 2}
        db.session.rollback()
    assert make_copies(app) == 2
    served = browser("researcher").get(f"/recordings/{recorded}/audio")
    assert served.status_code == 200 and served.mimetype == "audio/mpeg"
    served.close()
