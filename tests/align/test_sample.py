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
