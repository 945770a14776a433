"""Waveform peaks (``media/waveform.py``): the audiowaveform v2 format, exact peaks, and the
size bound of a 100-minute recording's file."""

from __future__ import annotations

import json

import numpy as np

from oralhist.media import waveform


def test_peaks_are_the_min_and_max_of_each_pixel_in_8_bits():
    samples = np.array([0, 256, -512, 1000, 32767, -32768, 5], dtype=np.int16)
    data = waveform.peaks([samples[:2], samples[2:]], samples_per_pixel=3)
    # pixels: [0, 256, -512], [1000, 32767, -32768], [5] (the rest)
    assert data.tolist() == [-2, 1, -128, 127, 0, 0]
    assert data.dtype == np.int8


def test_the_document_is_audiowaveform_version_2():
    data = waveform.peaks([np.array([-300, 300, 0, 0], dtype=np.int16)], samples_per_pixel=2)
    document = json.loads(waveform.waveform_json(data, sample_rate=8000, samples_per_pixel=2))
    assert document == {
        "version": 2,
        "channels": 1,
        "sample_rate": 8000,
        "samples_per_pixel": 2,
        "bits": 8,
        "length": 2,
        "data": [-2, 1, 0, 0],
    }


def test_a_100_minute_recording_at_full_scale_stays_under_200_kb():
    """The worst case for the file's size: every pixel spans -128..127."""
    rate = waveform.SAMPLE_RATE
    minute = np.tile(np.array([-32768, 32767], dtype=np.int16), rate * 30)
    data = waveform.peaks(minute for _ in range(100))
    assert len(data) == 2 * 100 * 60 * rate // waveform.SAMPLES_PER_PIXEL
    size = len(waveform.waveform_json(data))
    assert size < 200 * 1024
    assert size > 100 * 1024  # the bound is about this resolution, not an empty file


def test_silence_and_nothing():
    assert waveform.peaks([]).tolist() == []
    silent = waveform.peaks([np.zeros(6400, dtype=np.int16)])
    assert silent.tolist() == [0, 0, 0, 0]
