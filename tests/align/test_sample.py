"""The sample's interview with an untimed transcript aligns to the turn times the synthesis
made (exact to the sample; the MP3 encoder adds ~50 ms)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from oralhist.align import runner
from oralhist.extensions import db
from oralhist.models import Interview
from oralhist.services import sample

pytest.importorskip("pocketsphinx")

TOLERANCE_MS = 200


def test_the_untimed_sample_aligns_to_its_true_turn_times(app):
    truth = json.loads((sample.SAMPLE_DIR / "untimed_truth.json").read_text())
    with app.app_context():
        sample.load_sample()
        db.session.commit()
        interview = db.session.scalar(
            select(Interview).where(Interview.accession == "OH-SAMPLE-003")
        )
        assert interview.current_transcript is not None
        assert not interview.current_transcript.timed
        computed = runner.compute_alignment(interview.id, lambda p, s: None)
    result = computed.result
    assert result.unaligned == []
    assert len(result.segments) == len(truth["turns"])
    for got, want in zip(result.segments, truth["turns"], strict=True):
        assert abs(got.start_ms - want["start_ms"]) <= TOLERANCE_MS, (got.start_ms, want)
        assert abs(got.end_ms - want["end_ms"]) <= TOLERANCE_MS, (got.end_ms, want)


def test_a_turn_missing_from_the_transcript_is_reported_as_speech_not_in_it():
    """The sample's audio with its third turn's words left out of the transcript."""
    from oralhist.align import audio, pipeline, sphinx

    truth = json.loads((sample.SAMPLE_DIR / "untimed_truth.json").read_text())
    turns = truth["turns"]
    kept = [t for i, t in enumerate(turns) if i != 1]
    path = str(sample.SAMPLE_DIR / "untimed.mp3")
    parts = [pipeline.Part(0, truth["duration_ms"], lambda: audio.samples(path))]
    with sphinx.PocketSphinx(sphinx.find_model("en")) as engine:
        result = pipeline.align(
            [pipeline.SegmentIn(t["text"]) for t in kept], parts, engine, lambda p, s: None
        )
    gone = turns[1]
    reported = [u for u in result.unaligned if u["reason"] == "speech not in the transcript"]
    assert any(u["start_ms"] < gone["end_ms"] and gone["start_ms"] < u["end_ms"] for u in reported)
    # the other turns are all aligned, near their true starts (median within the issue's
    # 100 ms; a short first word after the gap ("No.") can land up to a second off: a known
    # imprecision reported with the bench figures)
    assert all(s.aligned for s in result.segments)
    errors = sorted(
        abs(g.start_ms - w["start_ms"]) for g, w in zip(result.segments, kept, strict=True)
    )
    assert errors[len(errors) // 2] <= 100
    assert errors[-1] <= 1000
