"""A short Welsh "recording" made in the test: eSpeak NG at another speaking rate than the
aligner's, resampled to 16 kHz, with pauses of different lengths and background noise, and
each segment's true speech onset (exact: known from the samples)."""

from __future__ import annotations

import io
import wave

import numpy as np

from oralhist.align import espeak

WELSH = [
    "Bore da, sut dych chi heddiw?",
    "Roeddwn i'n gweithio yn y pwll glo am ugain mlynedd.",
    "Mae'r capel wedi cau erbyn hyn.",
    "Dw i'n cofio'r streic yn naw deg wyth deg pedwar.",
]
#: Silence before each segment (ms): long, uneven pauses as in an interview.
PAUSES_MS = [700, 1600, 2500, 900]


def recording(texts=WELSH, pauses_ms=PAUSES_MS, *, rate_wpm=140, voice="cy"):
    """(int16 samples at 16 kHz, true onset ms of each segment)."""
    rng = np.random.default_rng(7)
    pieces, onsets, at = [], [], 0
    for text, pause in zip(texts, pauses_ms, strict=True):
        silence = np.zeros(16 * pause, dtype=np.float32)
        pieces.append(silence)
        at += len(silence)
        spoken = espeak.synthesise([text], voice, rate=rate_wpm)
        wav = spoken.samples.astype(np.float32)
        resampled = np.interp(
            np.arange(0, len(wav), spoken.rate / 16000), np.arange(len(wav)), wav
        ).astype(np.float32)
        onset = int(np.flatnonzero(np.abs(resampled) > 300)[0])
        onsets.append((at + onset) // 16)
        pieces.append(resampled)
        at += len(resampled)
    pieces.append(np.zeros(16 * 500, dtype=np.float32))
    signal = np.concatenate(pieces)
    signal += rng.normal(0.0, 300.0, len(signal)).astype(np.float32)
    return np.clip(signal, -32768, 32767).astype(np.int16), onsets


def wav_bytes(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def flac_bytes(samples: np.ndarray) -> bytes:
    """The samples as FLAC (lossless; under the 500 KB above which an upload is spooled to a
    temporary file), through the archive's audio adapter."""
    from oralhist.media import audio

    out = io.BytesIO()
    audio.encode(
        io.BytesIO(wav_bytes(samples)),
        out,
        container_format="flac",
        codec="flac",
        rate=16000,
        bit_rate=None,
        name="speech.wav",
    )
    return out.getvalue()
