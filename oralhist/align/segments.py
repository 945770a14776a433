"""Segment-level alignment for a language with no acoustic model, aeneas' way.

The transcript's segments are spoken by eSpeak NG (``espeak``), each on its own between short
silences, so where each segment's speech begins and ends in the synthesis is known exactly;
the recording and the synthesis are matched by banded DTW on their MFCCs (``dtw``); each
segment's speech onset and end in the synthesis are carried through the warping path onto the
recording. This gives segment times only, never word times: a synthesiser's word boundaries
carried through a frame-level warp are not precise enough to publish as word times.

Works for every language eSpeak NG speaks; the level reached is stated in the result.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import dtw, espeak
from .pipeline import Audio, Part, Progress, Result, SegmentIn, SegmentOut, _mark_unaligned_segments
from .text import spoken_words

#: Silence put before and after each synthesised segment: a pause in the recording then has
#: silence in the synthesis to be matched with, and a segment's onset stays its own.
PAD_MS = 300
#: Samples quieter than this (16-bit) are silence when finding a segment's speech in the
#: synthesis (eSpeak NG writes exact zeros between words).
SILENCE = 300
#: Faint noise added to the synthesis: digital silence has no finite log spectrum.
DITHER = 30.0


def _speech_bounds(samples: np.ndarray) -> tuple[int, int] | None:
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SILENCE)
    if len(loud) == 0:
        return None
    return int(loud[0]), int(loud[-1]) + 1


def synthesis_features(texts: Sequence[str], voice: str) -> tuple[np.ndarray, list]:
    """Normalised MFCCs of the transcript spoken with ``voice``, and each text's speech
    (onset ms, end ms) in that synthesis (``None`` for a text with nothing to say).

    Each text is spoken and analysed on its own, after ``PAD_MS`` of silence, so only one
    segment's samples are held at a time (the whole synthesis of an interview is hundreds of
    megabytes); a piece is padded to whole frames, so frame times add up exactly."""
    blocks: list[np.ndarray] = []
    bounds: list[tuple[int, int] | None] = []
    noise = np.random.default_rng(0)
    frames = 0
    rate = 22050
    texts = [*texts, ""]  # the last piece: silence after the last segment
    for text in texts:
        spoken = espeak.synthesise([text], voice)
        rate = spoken.rate
        hop = round(rate * dtw.HOP_MS / 1000)
        pad = round(rate * PAD_MS / 1000)
        length = -(-(pad + len(spoken.samples)) // hop) * hop
        piece = noise.standard_normal(length, dtype=np.float32) * DITHER
        piece[pad : pad + len(spoken.samples)] += spoken.samples
        inside = _speech_bounds(spoken.samples)
        at = frames * hop + pad
        bounds.append(
            None
            if inside is None
            else ((at + inside[0]) * 1000 // rate, (at + inside[1]) * 1000 // rate)
        )
        blocks.append(dtw.mfcc(piece, rate)[: length // hop])
        frames += length // hop
    return dtw.normalise(np.concatenate(blocks)), bounds[:-1]


class _Dither:
    """The synthesis's faint noise (``DITHER``) added to a recording's samples, so digital
    silence (an edited or generated recording) matches the synthesis's silence, not nothing.
    Given to ``dtw.mfcc`` as its ``convert``: the noise is drawn in order as the analysis
    moves through the samples (the blocks overlap by a window), so a part is never copied
    whole as floats; the noise is the same as one draw of the part's length."""

    def __init__(self) -> None:
        self._noise = np.random.default_rng(1)
        self._buffer = np.zeros(0, dtype=np.float32)
        self._first = 0  # the sample index of the buffer's first value

    def __call__(self, raw: np.ndarray, first: int) -> np.ndarray:
        drawn = self._first + len(self._buffer)
        end = first + len(raw)
        if first < self._first:
            raise ValueError("the samples must be analysed in order")
        if end > drawn:
            more = self._noise.standard_normal(end - drawn, dtype=np.float32) * DITHER
            self._buffer = np.concatenate([self._buffer[first - self._first :], more])
            self._first = first
        signal = self._buffer[first - self._first : end - self._first].copy()
        signal += raw
        return signal


def recording_features(audio: Audio) -> np.ndarray:
    """Normalised MFCCs of the interview's parts on one timeline (a part's frames cut or
    padded to its duration, so frame ``i`` is at ``i * HOP_MS`` on the timeline). Each part
    is normalised on its own: parts recorded on different days differ in level and noise."""
    blocks = []
    for index, part in enumerate(audio.parts):
        features = dtw.mfcc(audio.samples(index), 16000, convert=_Dither())
        frames = max(1, round(part.duration_ms / dtw.HOP_MS))
        if len(features) < frames:
            filler = features[-1:] if len(features) else np.zeros((1, dtw.COEFFICIENTS))
            features = np.concatenate([features, np.repeat(filler, frames - len(features), 0)])
        blocks.append(dtw.normalise(features[:frames]))
    return np.concatenate(blocks).astype(np.float32)


def segment_times(
    texts: Sequence[str], audio: Audio, voice: str, progress: Progress, base: int, span: int
) -> tuple[dict[int, tuple[int, int]], dict]:
    """Each spoken segment's (start ms, end ms) in the recording, by segment index (a segment
    with nothing to say has none), and figures for the result's stats. Progress runs from
    ``base`` to ``base + span``."""
    progress(base, "Speaking the transcript with eSpeak NG")
    synth, bounds = synthesis_features(texts, voice)
    progress(base + span // 4, "Analysing the recording")
    real = recording_features(audio)
    progress(base + span // 2, "Matching the recording with the spoken transcript")
    try:
        path = dtw.warp(real, synth)
    except dtw.NoPath as error:
        from ..errors import ValidationError

        raise ValidationError(
            f"No alignment: the transcript cannot be matched with the audio ({error}).",
            fields={"transcript": "does not match the audio"},
        ) from error
    spoken = [(i, b) for i, b in enumerate(bounds) if b is not None]
    starts = dtw.map_times(path, [b[0] for _, b in spoken])
    ends = dtw.map_times(path, [b[1] for _, b in spoken])
    times: dict[int, tuple[int, int]] = {}
    for (index, _), start, end in zip(spoken, starts, ends, strict=True):
        times[index] = (start, max(start, end))
    ordered = sorted(times)
    for k, index in enumerate(ordered):  # an end never runs past the next segment's start
        if k + 1 < len(ordered):
            start, end = times[index]
            times[index] = (start, max(start, min(end, times[ordered[k + 1]][0])))
    return times, {"frames": len(real), "synthesis_frames": len(synth)}


def align_segments(
    segments: Sequence[SegmentIn], parts: Sequence[Part], voice: str, progress: Progress
) -> Result:
    """Segment start and end times (no word times) for the transcript in ``parts``."""
    texts = [" ".join(spoken_words(s.text)) for s in segments]
    audio = Audio(parts, progress)
    try:
        times, figures = segment_times(texts, audio, voice, progress, 10, 80)
    finally:
        audio.close()
    progress(90, "Carrying segment times onto the recording")
    out: list[SegmentOut] = []
    for index in range(len(segments)):
        if index in times:
            start, end = times[index]
            out.append(SegmentOut(start, end, [], True))
        else:
            out.append(SegmentOut(None, None, [], False))
    unaligned: list[dict] = []
    _mark_unaligned_segments(out, unaligned)
    progress(99, "Writing the proposed version")
    return Result(
        out,
        unaligned,
        "segments",
        {
            "segments": len(segments),
            "aligned_segments": len(times),
            "audio_ms": audio.total_ms,
            **figures,
        },
    )
