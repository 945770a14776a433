"""A full alignment of a real recording (JFK, 11 s) with PocketSphinx, and a mismatch case.

Word starts are checked against speech onsets found independently from the signal's energy
(each onset after a pause of 250 ms or more, followed by sustained sound), not against the
engine's own output.
"""

import itertools

import numpy as np
import pytest

from oralhist.align import audio, pipeline, sphinx
from tests import conftest

pytest.importorskip("pocketsphinx")

FIRST = "And so, my fellow Americans: ask not what your country can do for you,"
SECOND = "ask what you can do for your country."
TOLERANCE_MS = 150


def energy_onsets(pcm: np.ndarray, floor_db: float = 62, pause_ms: int = 250) -> list[int]:
    frames = pcm[: len(pcm) // 160 * 160].astype(float).reshape(-1, 160)
    db = 20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1)
    loud_frames = db > floor_db
    onsets, quiet = [], pause_ms // 10
    for index, loud in enumerate(loud_frames):
        if loud:
            # an onset is followed by speech (15 of the next 25 frames loud), not a click
            if quiet >= pause_ms // 10 and loud_frames[index : index + 25].sum() >= 15:
                onsets.append(index * 10)
            quiet = 0
        else:
            quiet += 1
    return onsets


@pytest.fixture(scope="module")
def engine():
    with sphinx.PocketSphinx(sphinx.find_model("en")) as e:
        yield e


def run(engine, texts, name="jfk.ogg", synthesis=False):
    path = str(conftest.testdata("jfk-speech", name))
    parts = [pipeline.Part(0, 11_000, lambda: audio.samples(path))]
    stages = []
    result = pipeline.align(
        [pipeline.SegmentIn(t) for t in texts],
        parts,
        engine,
        lambda p, s: stages.append(p),
        synthesis=synthesis,
    )
    assert result.stats["anchoring"] == ("synthesis" if synthesis else "recognition")
    assert stages == sorted(stages)
    return result, audio.samples(path)


@pytest.mark.parametrize("synthesis", [False, True], ids=["recognition", "synthesis"])
def test_jfk_word_times_land_on_the_speech_onsets(engine, synthesis):
    result, pcm = run(engine, [FIRST, SECOND], synthesis=synthesis)
    words = [w for s in result.segments for w in s.words]
    assert [w.text for w in words] == (FIRST + " " + SECOND).split()
    assert all(w.end_ms > w.start_ms for w in words)
    assert all(a.end_ms <= b.start_ms for a, b in itertools.pairwise(words))
    onsets = energy_onsets(pcm)
    assert len(onsets) >= 4
    starts = [w.start_ms for w in words]
    for onset in onsets:
        assert min(abs(onset - s) for s in starts) <= TOLERANCE_MS, onset
    # the two sentences: the second starts at the onset after the long pause
    assert abs(result.segments[1].start_ms - min(onsets, key=lambda o: abs(o - 8150))) <= 150
    assert result.unaligned == []
    assert result.level == "words"


@pytest.mark.parametrize("name", ["jfk.mp3", "jfk.opus"])
def test_every_accepted_format_aligns_alike(engine, name):
    result, _ = run(engine, [FIRST, SECOND], name)
    reference, _ = run(engine, [FIRST, SECOND])
    for got, want in zip(result.segments, reference.segments, strict=True):
        assert abs(got.start_ms - want.start_ms) <= 60


@pytest.mark.parametrize("synthesis", [False, True], ids=["recognition", "synthesis"])
def test_a_paragraph_the_audio_lacks_is_marked_unaligned_and_the_rest_aligns(engine, synthesis):
    added = "We choose to go to the moon in this decade, not because it is easy."
    result, _ = run(engine, [FIRST, added, SECOND], synthesis=synthesis)
    assert [s.aligned for s in result.segments] == [True, False, True]
    assert [u["segments"] for u in result.unaligned] == [[1]]
    flagged = result.unaligned[0]
    # its approximate range lies between the two aligned sentences
    assert result.segments[0].end_ms <= flagged["start_ms"] <= flagged["end_ms"]
    assert flagged["end_ms"] <= result.segments[2].start_ms
    assert result.segments[1].words == []
    assert len(result.segments[2].words) == len(SECOND.split())


def test_english_is_never_used_for_another_language():
    assert sphinx.find_model("cy") is None
    assert sphinx.find_model("en-GB") is not None


def test_an_operator_configured_model_folder_is_used_for_its_language(tmp_path):
    folder = tmp_path / "cy"
    (folder / "acoustic").mkdir(parents=True)
    (folder / "acoustic" / "mdef").write_text("")
    (folder / "cy.dict").write_text("bore B OH R EH\n")
    (folder / "cy.lm.bin").write_bytes(b"")
    model = sphinx.find_model("cy-GB", {"cy": str(folder)})
    assert model is not None and model.language == "cy"
    assert model.hmm == folder / "acoustic" and model.dictionary == folder / "cy.dict"
    assert model.lm == folder / "cy.lm.bin"
    assert sphinx.find_model("cy", {"cy": str(tmp_path / "empty")}) is None
    assert sphinx.language_name("cy") == "Welsh"
