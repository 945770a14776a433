"""aeneas' way: MFCC sanity, banded DTW on small inputs with known warps, and a segment-level
alignment of a short Welsh sample synthesised in the test."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from oralhist.align import dtw, espeak, pipeline, segments
from tests.align import speech


def _tone(hz: float, rate: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


# --- MFCC -------------------------------------------------------------------------------


def test_mfcc_has_one_frame_a_hop_and_the_asked_coefficients():
    features = dtw.mfcc(_tone(440, 16000), 16000)
    assert features.shape == (1000 // dtw.HOP_MS + 1, dtw.COEFFICIENTS)
    assert features.dtype == np.float32
    assert np.isfinite(features).all()
    assert dtw.mfcc(np.zeros(0, dtype=np.int16), 16000).shape == (0, dtw.COEFFICIENTS)


def test_mfcc_does_not_depend_on_the_sample_rate():
    """The synthesis (22 kHz) and the recording (16 kHz) are compared without resampling."""
    at16 = dtw.mfcc(_tone(700, 16000), 16000)[3:-3]
    at22 = dtw.mfcc(_tone(700, 22050), 22050)[3:-3]
    other = dtw.mfcc(_tone(2500, 16000), 16000)[3:-3]
    same = np.linalg.norm(at16 - at22, axis=1).mean()
    different = np.linalg.norm(at16 - other, axis=1).mean()
    assert same < different / 5


def _reference_mfcc(signal: np.ndarray, rate: int) -> np.ndarray:
    """The MFCC computed the plain way, on the whole signal at once (what ``dtw.mfcc``
    computes block by block without copying the signal whole)."""
    hop, width = rate * dtw.HOP_MS // 1000, rate * dtw.WINDOW_MS // 1000
    n_fft = 1 << (width - 1).bit_length()
    emphasised = np.concatenate([signal[:1], signal[1:] - np.float32(0.97) * signal[:-1]])
    padded = np.pad(emphasised, (width // 2, width))
    frames = len(signal) // hop + 1
    block = padded[np.arange(frames)[:, None] * hop + np.arange(width)]
    block = block * np.hamming(width).astype(np.float32)
    power = np.abs(np.fft.rfft(block, n_fft).astype(np.complex64)) ** 2 / n_fft
    bank = dtw.mel_filterbank(rate, n_fft).T.astype(np.float32)
    energies = np.log(np.maximum(power.astype(np.float32) @ bank, 1e-10))
    return energies @ dtw._dct_matrix(dtw.MEL_BANDS, dtw.COEFFICIENTS).T.astype(np.float32)


@pytest.mark.parametrize("length", [1, 639, 641, 16000 * 3 + 7, 16000 * 70 + 123])
def test_mfcc_in_blocks_is_the_mfcc_of_the_whole_signal(length):
    rng = np.random.default_rng(length)
    pcm = (rng.standard_normal(length) * 3000).astype(np.int16)
    pcm[length // 3 : length // 2] = 0
    scaled = pcm.astype(np.float32) / np.float32(32768)
    assert np.allclose(dtw.mfcc(pcm, 16000), _reference_mfcc(scaled, 16000), atol=1e-3)
    # ``convert`` makes the analysed signal from each run of samples (here: the recording's
    # dither, drawn as it goes, is the same noise as one draw of the part's length)
    noise = np.random.default_rng(1).standard_normal(length, dtype=np.float32)
    noise *= segments.DITHER
    noise += pcm
    blocks = dtw.mfcc(pcm, 16000, convert=segments._Dither())
    assert np.array_equal(blocks, dtw.mfcc(noise, 16000))
    assert np.allclose(blocks, _reference_mfcc(noise, 16000), atol=1e-3)


def test_the_recording_is_spooled_not_held_and_read_back_by_the_millisecond():
    first = np.arange(16 * 1000, dtype=np.int16)
    second = -np.arange(16 * 500, dtype=np.int16)
    parts = [
        pipeline.Part(0, 1000, first.copy),
        pipeline.Part(1000, 500, lambda: iter([second[:3000], second[3000:]])),  # blocks
    ]
    audio = pipeline.Audio(parts, lambda p, s: None)
    assert not any(isinstance(v, np.ndarray) for v in vars(audio).values())
    assert isinstance(audio.samples(0), np.memmap)
    assert np.array_equal(audio.samples(1), second)
    assert np.array_equal(audio.slice(900, 1100), np.concatenate([first[-1600:], second[:1600]]))
    assert np.array_equal(audio.clip(-5, 10).pcm, first[:160])
    assert len(audio.slice(1400, 9000)) == 1600
    files = [handle for handle, _ in audio._files]
    audio.close()
    assert all(handle.closed for handle in files)


def test_the_mel_filter_bank_rises_with_frequency_and_the_dct_is_orthonormal():
    bank = dtw.mel_filterbank(16000, 2048)
    peaks = bank.argmax(axis=1)
    assert (np.diff(peaks) > 0).all()
    assert bank.min() >= 0 and (bank.sum(axis=1) > 0).all()
    bins = np.fft.rfftfreq(2048, 1 / 16000)
    assert bins[peaks[-1]] <= dtw.MEL_HIGH_HZ
    dct = dtw._dct_matrix(40, 40)
    assert np.allclose(dct @ dct.T, np.eye(40), atol=1e-9)


def test_normalise_gives_zero_mean_unit_variance():
    rng = np.random.default_rng(0)
    features = rng.normal(5.0, 3.0, (500, 13)).astype(np.float32)
    out = dtw.normalise(features)
    assert np.allclose(out.mean(axis=0), 0, atol=1e-4)
    assert np.allclose(out.std(axis=0), 1, atol=1e-3)


# --- banded DTW -------------------------------------------------------------------------


def _warped(synth: np.ndarray, mapping: list[int]) -> np.ndarray:
    return synth[np.asarray(mapping)]


def test_dtw_recovers_a_known_warp_with_pauses_and_faster_speech():
    rng = np.random.default_rng(1)
    synth = rng.normal(size=(60, 5)).astype(np.float32)
    # the recording: frames 0-19 as they are, frame 19 held for 8 frames (a pause),
    # frames 20-39 at twice the speed, frames 40-59 each held twice (slower speech)
    mapping = (
        list(range(20))
        + [19] * 8
        + list(range(21, 40, 2))
        + [f for f in range(40, 60) for _ in range(2)]
    )
    mapping[0] = 0
    real = _warped(synth, mapping)
    path = dtw.banded_path(real, synth, np.zeros(len(real), dtype=np.int64), radius=100)
    assert path.tolist() == mapping


def test_dtw_stays_in_its_band():
    rng = np.random.default_rng(2)
    synth = rng.normal(size=(300, 4)).astype(np.float32)
    real = _warped(synth, [min(299, i // 2 * 2 + (i % 2)) for i in range(300)])
    centres = np.arange(300)
    path = dtw.banded_path(real, synth, centres, radius=10)
    assert (np.abs(path - centres) <= 20).all()
    assert path[0] == 0 and path[-1] == 299
    assert (np.diff(path) >= 0).all() and (np.diff(path) <= dtw.MAX_STEP).all()


def test_no_path_when_the_synthesis_is_over_twice_the_recording():
    rng = np.random.default_rng(3)
    with pytest.raises(dtw.NoPath):
        dtw.warp(rng.normal(size=(10, 3)), rng.normal(size=(25, 3)))
    with pytest.raises(dtw.NoPath):
        dtw.warp(np.zeros((0, 3)), rng.normal(size=(5, 3)))


def test_two_pass_warp_finds_a_long_pause_far_from_the_diagonal():
    """A long recording (the coarse pass runs) with a 60-second pause (1,500 frames) in the
    middle: the path must follow it, not the diagonal."""
    rng = np.random.default_rng(4)
    m = 6000
    smooth = np.cumsum(rng.normal(size=(m, 6)), axis=0)
    synth = (smooth + rng.normal(scale=2.0, size=(m, 6))).astype(np.float32)
    mapping = list(range(3000)) + [2999] * 1500 + list(range(3000, m))
    real = _warped(synth, mapping) + rng.normal(scale=0.3, size=(len(mapping), 6))
    path = dtw.warp(real.astype(np.float32), synth)
    errors = np.abs(path - np.asarray(mapping))
    assert np.median(errors) <= 1
    assert np.percentile(errors, 99) <= 5
    starts = dtw.map_times(path, [3000 * dtw.HOP_MS], hop_ms=dtw.HOP_MS)
    assert abs(starts[0] - 4500 * dtw.HOP_MS) <= 2 * dtw.HOP_MS


def test_the_band_keeps_memory_bounded():
    """20,000 x 20,000 frames (13 minutes against 13 minutes): a full cost matrix would be
    400 million cells; the band of 101 columns needs a few megabytes."""
    rng = np.random.default_rng(5)
    n = 20_000
    synth = rng.normal(size=(n, 13)).astype(np.float32)
    real = synth + rng.normal(scale=0.1, size=synth.shape).astype(np.float32)
    tracemalloc.start()
    try:
        path = dtw.banded_path(real, synth, np.arange(n), radius=50)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert path.tolist() == list(range(n))
    assert peak < 40 * 1024 * 1024


# --- eSpeak NG and segment-level alignment -----------------------------------------------


def test_espeak_knows_which_languages_it_speaks():
    assert espeak.voice_for("cy") == "cy"
    assert espeak.voice_for("pt_BR") == "pt-br"
    assert espeak.voice_for("yo") is None
    assert espeak.voice_for("") is None


def test_espeak_synthesis_gives_each_text_its_own_span():
    spoken = espeak.synthesise(["Bore da.", "", "Diolch yn fawr iawn."], "cy")
    assert spoken.rate > 8000
    (a0, a1), (b0, b1), (c0, c1) = spoken.spans
    assert a0 == 0 and a1 > 0 and b0 == b1 == a1 and c0 == b1 and c1 == len(spoken.samples)
    assert np.abs(spoken.samples[c0:c1]).max() > 1000
    slower = espeak.synthesise(["Diolch yn fawr iawn."], "cy", rate=100)
    assert len(slower.samples) > (c1 - c0) * 1.3


def test_a_welsh_sample_gets_segment_starts_within_100_ms():
    samples, onsets = speech.recording()
    part = pipeline.Part(0, len(samples) // 16, lambda: samples)
    progress: list[tuple[int, str]] = []
    result = segments.align_segments(
        [pipeline.SegmentIn(t) for t in speech.WELSH],
        [part],
        "cy",
        lambda p, s: progress.append((p, s)),
    )
    assert result.level == "segments"
    starts = [s.start_ms for s in result.segments]
    assert all(abs(got - want) <= 100 for got, want in zip(starts, onsets, strict=True)), (
        starts,
        onsets,
    )
    for seg, nxt in zip(result.segments, result.segments[1:], strict=False):
        assert seg.start_ms < seg.end_ms <= nxt.start_ms
    assert all(s.words == [] and s.aligned for s in result.segments)  # never word times
    assert result.unaligned == []
    assert progress[-1][0] == 99 and [p for p, _ in progress] == sorted(p for p, _ in progress)


def test_a_segment_with_nothing_to_say_is_marked_not_aligned():
    samples, _ = speech.recording(speech.WELSH[:2], speech.PAUSES_MS[:2])
    part = pipeline.Part(0, len(samples) // 16, lambda: samples)
    texts = [speech.WELSH[0], "[chwerthin]", speech.WELSH[1]]
    result = segments.align_segments(
        [pipeline.SegmentIn(t) for t in texts], [part], "cy", lambda p, s: None
    )
    assert [s.aligned for s in result.segments] == [True, False, True]
    assert result.unaligned[0]["segments"] == [1]
    middle = result.segments[1]
    assert result.segments[0].end_ms <= middle.start_ms <= result.segments[2].start_ms
