"""Waveform peaks in the BBC audiowaveform JSON format (version 2), from decoded samples.

The JSON, as ``GET /api/v1/recordings/<id>/waveform`` serves it::

    {"version": 2, "channels": 1, "sample_rate": 8000, "samples_per_pixel": 3200,
     "bits": 8, "length": N, "data": [min0, max0, min1, max1, ...]}

``data`` holds ``length`` pixel pairs, each the lowest and highest sample (int8, -128..127)
of ``samples_per_pixel`` consecutive samples at ``sample_rate``: pixel ``i`` covers
``i * samples_per_pixel / sample_rate`` seconds onwards, so a pixel here is 0.4 s. This is
what audiowaveform writes and what peaks.js and wavesurfer read (wavesurfer: divide ``data``
by 128).

The resolution is fixed, so a recording's waveform is made once: 2.5 pixels a second keeps
a 100-minute recording's file under 150 KB even at full amplitude (15,000 pairs, at most
five characters a number), and lets a player zoom to a minute across 150 pixels.

Pure numpy: no Flask, no database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import numpy as np

#: The rate the audio is decoded at for peaks (speech peaks need no more).
SAMPLE_RATE = 8000
#: Samples per pixel at SAMPLE_RATE: 0.4 s a pixel.
SAMPLES_PER_PIXEL = 3200


def peaks(
    blocks: Iterable[np.ndarray], *, samples_per_pixel: int = SAMPLES_PER_PIXEL
) -> np.ndarray:
    """Interleaved ``[min, max, ...]`` int8 peaks of mono int16 ``blocks``; the last pixel
    covers what is left. Memory: one block plus the result."""
    out: list[np.ndarray] = []
    carry = np.zeros(0, dtype=np.int16)
    for block in blocks:
        data = np.concatenate([carry, np.asarray(block, dtype=np.int16).reshape(-1)])
        whole = len(data) // samples_per_pixel * samples_per_pixel
        if whole:
            out.append(_minmax(data[:whole].reshape(-1, samples_per_pixel)))
        carry = data[whole:]
    if len(carry):
        out.append(_minmax(carry.reshape(1, -1)))
    if not out:
        return np.zeros(0, dtype=np.int8)
    return np.concatenate(out)


def _minmax(frames: np.ndarray) -> np.ndarray:
    pairs = np.empty((frames.shape[0], 2), dtype=np.int8)
    # int16 -> int8 by the top byte (an arithmetic shift keeps -32768 at -128).
    pairs[:, 0] = frames.min(axis=1) >> 8
    pairs[:, 1] = frames.max(axis=1) >> 8
    return pairs.reshape(-1)


def waveform_json(
    data: np.ndarray,
    *,
    sample_rate: int = SAMPLE_RATE,
    samples_per_pixel: int = SAMPLES_PER_PIXEL,
) -> bytes:
    """The audiowaveform version-2 JSON document of ``peaks`` output, compact, UTF-8."""
    document = {
        "version": 2,
        "channels": 1,
        "sample_rate": sample_rate,
        "samples_per_pixel": samples_per_pixel,
        "bits": 8,
        "length": len(data) // 2,
        "data": [int(v) for v in data],
    }
    return json.dumps(document, separators=(",", ":")).encode("utf-8")
