"""A transcript longer than its audio (issue 15): the import gives one aggregated warning,
not one per cue, and the interview page flags the mismatch to those who may read it."""

from __future__ import annotations

import io

import pytest

from oralhist.access.policy import Viewer
from oralhist.extensions import db
from oralhist.models import Interview
from oralhist.transcripts import parse_transcript
from tests.recordings.conftest import wav_bytes


def srt(cues: int, step_ms: int = 1000) -> bytes:
    blocks = []
    for i in range(cues):
        start, end = i * step_ms, (i + 1) * step_ms

        def tc(ms: int) -> str:
            return f"00:{ms // 60000:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

        blocks.append(f"{i + 1}\n{tc(start)} --> {tc(end)}\nLine {i + 1}\n")
    return "\n".join(blocks).encode()


def test_cues_past_the_audio_give_one_warning():
    result = parse_transcript(srt(40), "long.srt", "srt", duration_ms=10_000)
    past = [w for w in result.warnings if "past the end of the recording" in w.message]
    assert len(past) == 1
    warning = past[0]
    assert warning.line == 42  # the timing line of cue 11, the first past 10 s
    assert warning.message.startswith("30 cues (from cue 11, 00:00:10.000) run past the end")
    assert "(00:00:10.000)" in warning.message
    assert "reaches 00:00:40.000, 00:00:30.000 longer than the audio" in warning.message


def test_one_cue_past_the_audio():
    result = parse_transcript(srt(3), "short.srt", "srt", duration_ms=2_500)
    (warning,) = [w for w in result.warnings if "past the end" in w.message]
    assert warning.message.startswith("1 cue (from cue 3, 00:00:02.000) runs past the end")


def test_a_transcript_within_its_audio_gives_no_warning():
    result = parse_transcript(srt(3), "short.srt", "srt", duration_ms=3_000)
    assert not [w for w in result.warnings if "past the end" in w.message]


@pytest.fixture
def overrun(app, users):
    """A published, open interview: 5 s of audio, a 12 s transcript."""
    from oralhist.services import catalogue, recordings, transcripts

    archivist = Viewer(user_id=users["archivist"], role="archivist")
    with app.test_request_context():
        interview = catalogue.save_interview(
            archivist, {"title": "Overrun", "access_level": "restricted"}
        )
        recordings.add_recording(archivist, interview, io.BytesIO(wav_bytes(5)), "a.wav")
        transcripts.import_transcript(archivist, interview, srt(12), "long.srt")
        catalogue.publish(archivist, interview)
        db.session.commit()
        return interview.id


@pytest.mark.parametrize(
    ("role", "flagged"),
    [(None, False), ("researcher", False), ("contributor", False), ("archivist", True)],
)
def test_the_interview_page_flags_a_transcript_longer_than_its_audio(
    app, browser, overrun, role, flagged
):
    html = browser(role).get(f"/interviews/{overrun}").get_data(as_text=True)
    assert ('id="tx-overrun"' in html) is flagged
    if flagged:
        assert "runs 0:00:07 past the end of the audio (0:00:05 in all)" in html


def test_no_flag_when_the_transcript_fits(app, browser, overrun):
    from oralhist.services import recordings

    with app.test_request_context():
        interview = db.session.get(Interview, overrun)
        archivist = Viewer(user_id=None, role="archivist")
        recordings.add_recording(archivist, interview, io.BytesIO(wav_bytes(8, freq=660)), "b.wav")
        db.session.commit()
    html = browser("archivist").get(f"/interviews/{overrun}").get_data(as_text=True)
    assert 'id="tx-overrun"' not in html
