"""The audio served for a redacted interview: decoded from HTTP (whole file and Range
requests), the redacted span is silent and everything else equals the master sample for
sample, with the same duration; archivists get the master; lifting serves the master again."""

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


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if len(samples) else 0.0


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
    from oralhist.services import redacted_audio

    with app.app_context():
        return redacted_audio.make_pending()


def test_listeners_hear_silence_in_the_span_and_the_master_elsewhere(
    app, browser, archive, recorded
):
    iid = archive["interview"]
    master = decode(master_wav())
    span = (10500, 12000)
    made = browser("archivist").post(
        f"/api/v1/interviews/{iid}/redactions",
        json={"start_ms": span[0], "end_ms": span[1], "reason": "third party"},
    )
    assert made.status_code == 201
    researcher = browser("researcher")
    # until the copy is made, listeners get a 503 that says so, never the master
    pending = researcher.get(f"/recordings/{recorded}/audio")
    assert pending.status_code == 503 and pending.headers["Retry-After"]
    assert "being prepared" in pending.get_data(as_text=True)
    assert make_copies(app) == 1
    assert make_copies(app) == 0  # content-addressed: made once

    whole = researcher.get(f"/recordings/{recorded}/audio")
    assert whole.status_code == 200
    served = decode(whole.data)
    whole.close()
    assert len(served) == len(master)  # the same duration, to the sample
    a, b = span[0] * RATE // 1000, span[1] * RATE // 1000
    assert rms(served[a:b]) < 1.0 and rms(master[a:b]) > 1000
    assert np.array_equal(served[:a], master[:a]) and np.array_equal(served[b:], master[b:])

    # a Range request into the span: silence (44-byte header, 2 bytes a frame)
    start = 44 + (a + 100) * 2
    ranged = researcher.get(
        f"/recordings/{recorded}/audio", headers={"Range": f"bytes={start}-{start + 1999}"}
    )
    assert ranged.status_code == 206
    chunk = np.frombuffer(ranged.data, dtype="<i2")
    ranged.close()
    assert len(chunk) == 1000 and rms(chunk) < 1.0
    # downloads (for those who may) give the copy too
    download = browser("contributor2").get(f"/recordings/{recorded}/download")
    assert download.status_code == 200 and decode(download.data)[a:b].any() == False  # noqa: E712
    download.close()
    # archivists get the master
    archivist = browser("archivist").get(f"/recordings/{recorded}/audio")
    assert np.array_equal(decode(archivist.data), master)
    archivist.close()


def test_lifting_the_redaction_serves_the_master_again(app, browser, archive, recorded):
    iid = archive["interview"]
    rid = (
        browser("archivist")
        .post(
            f"/api/v1/interviews/{iid}/redactions",
            json={"start_ms": 1000, "end_ms": 2000, "reason": "r"},
        )
        .json["id"]
    )
    make_copies(app)
    silenced = browser("researcher").get(f"/recordings/{recorded}/audio")
    assert not np.array_equal(decode(silenced.data), decode(master_wav()))
    silenced.close()
    assert browser("archivist").delete(f"/api/v1/redactions/{rid}").status_code == 204
    again = browser("researcher").get(f"/recordings/{recorded}/audio")
    assert again.status_code == 200 and np.array_equal(decode(again.data), decode(master_wav()))
    again.close()


def test_a_tone_fills_the_span_when_the_archive_asks(app, browser, archive, recorded):
    app.config["REDACTION_TONE_HZ"] = 1000
    iid = archive["interview"]
    browser("archivist").post(
        f"/api/v1/interviews/{iid}/redactions",
        json={"start_ms": 5000, "end_ms": 6000, "reason": "r"},
    )
    make_copies(app)
    served = browser("researcher").get(f"/recordings/{recorded}/audio")
    samples = decode(served.data)
    served.close()
    a, b = 5000 * RATE // 1000, 6000 * RATE // 1000
    assert 2000 < rms(samples[a:b]) < 2500  # -20 dBFS sine: 0.1 * 32767 / sqrt(2)
    assert np.array_equal(samples[:a], decode(master_wav())[:a])


def test_frame_spans_round_outwards_and_merge():
    from oralhist.media.redact import frame_spans

    assert frame_spans([(1001, 1999)], 1000, 10_000) == [(1001, 1999)]
    assert frame_spans([(1, 2)], 44100, 10**6) == [(44, 89)]
    assert frame_spans([(0, 10), (5, 20), (30, 40)], 1000, 35) == [(0, 20), (30, 35)]


def test_a_redaction_queues_a_job_that_makes_the_copy(app, browser, archive, recorded):
    from oralhist import jobs

    iid = archive["interview"]
    browser("archivist").post(
        f"/api/v1/interviews/{iid}/redactions",
        json={"start_ms": 3000, "end_ms": 4000, "reason": "r"},
    )
    with app.app_context():
        from oralhist.models import Job

        queued = db.session.query(Job).filter_by(kind="redact_audio", interview_id=iid).all()
        assert [j.status for j in queued] == ["queued"]
        db.session.rollback()
    jobs.run_pending(app)
    with app.app_context():
        job = db.session.query(Job).filter_by(kind="redact_audio").one()
        assert job.status == "done" and job.result == {"copies": 1, "parts": 1}
        db.session.rollback()
    served = browser("researcher").get(f"/recordings/{recorded}/audio")
    assert served.status_code == 200
    samples = decode(served.data)
    served.close()
    assert rms(samples[3 * RATE : 4 * RATE]) < 1.0


def test_a_lossless_non_wav_master_gives_a_silenced_browser_copy(app, browser, archive, viewer_for):
    """A FLAC master: the copy is AAC in MP4 (decoded through ``media.audio``), silent in the
    span, close to the master elsewhere (lossy), and as long as the master."""
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
    assert make_copies(app) == 1
    served = browser("researcher").get(f"/recordings/{rid}/audio")
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
