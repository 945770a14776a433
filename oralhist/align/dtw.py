"""aeneas' way of aligning: MFCCs of the recording and of the transcript spoken by a
synthesiser, matched by banded (Sakoe-Chiba) dynamic time warping. Pure numpy, no engine.

MFCC: a small implementation here (pre-emphasis, Hamming window, power spectrum, mel filter
bank, log, DCT-II): ~30 lines that are unit-tested, instead of librosa (which brings scipy,
numba and llvmlite, over 100 MB) or python_speech_features (unmaintained since 2017). Both
signals are analysed with the same frame length and hop in milliseconds and the same mel
range (up to 8 kHz) whatever their sample rate, so a 22 kHz synthesis and a 16 kHz recording
need no resampling; each signal's coefficients are then mean- and variance-normalised (the
synthesiser's voice and the recording's channel differ).

DTW: rows are recording frames, columns synthesis frames. Every step moves one recording
frame on and 0, 1 or 2 synthesis frames on (the recording may pause anywhere, and speak up to
twice as fast as the synthesiser), so the path has exactly one column per row and each row of
the cost depends on the previous row only: a row is a few vector operations. Only a band of
columns around a centre line is computed, and only one cost row is kept plus one byte of
back-pointer a cell. Two passes keep that bounded for long recordings: a coarse pass (frames
averaged over ``COARSE`` hops) with a wide band around the diagonal, then a fine pass with a
narrow band around the coarse path. For 100 minutes at 40 ms: 15,000 x 4,500 bytes coarse,
150,000 x 101 bytes fine (under 100 MB together), where a full matrix would need 22 GB.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

#: Analysis frame and hop (aeneas: 100 ms window, 40 ms shift).
WINDOW_MS = 100
HOP_MS = 40
COEFFICIENTS = 13
MEL_BANDS = 40
MEL_HIGH_HZ = 8000.0
#: Fine frames averaged into one frame of the coarse pass.
COARSE = 10
#: The coarse band reaches this share of the recording, and at least ``MIN_BAND_MS``.
BAND_SHARE = 0.15
MIN_BAND_MS = 60_000
#: The fine band's reach around the coarse path, in fine frames (2 s).
FINE_RADIUS = 50
#: Steps: one recording frame on, and this many synthesis frames on at most.
MAX_STEP = 2
#: Frames of MFCC computed at once (bounded memory for long recordings).
BLOCK_FRAMES = 1024


class NoPath(ValueError):
    """No warping path within the band (the texts cannot be spoken in this audio: e.g. the
    synthesis is over twice as long as the recording)."""


def _hz_to_mel(hz):
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def _mel_to_hz(mel):
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(rate: int, n_fft: int, bands: int = MEL_BANDS) -> np.ndarray:
    """Triangular filters (bands x n_fft//2+1) evenly spaced on the mel scale up to 8 kHz
    (or the Nyquist frequency when lower)."""
    high = min(MEL_HIGH_HZ, rate / 2)
    points = _mel_to_hz(np.linspace(0.0, _hz_to_mel(high), bands + 2))
    bins = np.fft.rfftfreq(n_fft, 1.0 / rate)
    bank = np.zeros((bands, len(bins)))
    for b in range(bands):
        lo, mid, hi = points[b], points[b + 1], points[b + 2]
        rising = (bins - lo) / max(mid - lo, 1e-9)
        falling = (hi - bins) / max(hi - mid, 1e-9)
        bank[b] = np.clip(np.minimum(rising, falling), 0.0, None)
    return bank


def _dct_matrix(bands: int, coefficients: int) -> np.ndarray:
    """Orthonormal DCT-II rows 0..coefficients-1."""
    n = np.arange(bands)
    k = np.arange(coefficients)[:, None]
    matrix = np.cos(np.pi * k * (2 * n + 1) / (2 * bands)) * np.sqrt(2.0 / bands)
    matrix[0] /= np.sqrt(2.0)
    return matrix


def mfcc(
    samples: np.ndarray,
    rate: int,
    *,
    window_ms: int = WINDOW_MS,
    hop_ms: int = HOP_MS,
    coefficients: int = COEFFICIENTS,
    convert: Callable[[np.ndarray, int], np.ndarray] | None = None,
) -> np.ndarray:
    """MFCCs (frames x coefficients, float32) of mono samples (int16 or float), one frame
    every ``hop_ms``: frame ``i`` is centred at ``i * hop_ms`` (the signal is padded by half a
    window at both ends). ``convert(raw, first)``, when given, turns a run of the samples
    (``first``: its first sample's index) into the float32 signal analysed; by default int16
    samples are scaled to -1..1 and float samples taken as they are.

    Computed ``BLOCK_FRAMES`` frames at a time, each block converting only the samples it
    covers: a long recording is never copied whole as floats (an hour of int16 at 16 kHz is
    115 MB; each float copy of it was 230 MB)."""
    raw = np.asarray(samples)
    integer = np.issubdtype(raw.dtype, np.integer)
    n = len(raw)
    hop = max(1, round(rate * hop_ms / 1000))
    width = max(2, round(rate * window_ms / 1000))
    n_fft = 1 << (width - 1).bit_length()
    frames = n // hop + 1 if n else 0
    if frames == 0:
        return np.zeros((0, coefficients), dtype=np.float32)
    half = width // 2
    window = np.hamming(width).astype(np.float32)
    bank = mel_filterbank(rate, n_fft).T.astype(np.float32)
    dct = _dct_matrix(MEL_BANDS, coefficients).T.astype(np.float32)
    out = np.empty((frames, coefficients), dtype=np.float32)
    for first in range(0, frames, BLOCK_FRAMES):
        last = min(frames, first + BLOCK_FRAMES)
        # the block's frames cover samples lo..hi of the signal (zeros outside it)
        lo = first * hop - half
        hi = (last - 1) * hop - half + width
        a, b = max(0, lo), min(n, hi)
        source = max(0, a - 1)  # one sample before, for the pre-emphasis
        if convert is not None:
            signal = convert(raw[source:b], source)
        else:
            signal = raw[source:b].astype(np.float32)
            if integer:
                signal /= 32768.0
        emphasised = np.zeros(hi - lo, dtype=np.float32)
        if b > a:
            inside = emphasised[a - lo : b - lo]
            if source < a:
                inside[:] = signal[1:] - np.float32(0.97) * signal[:-1]
            else:
                inside[0] = signal[0]
                inside[1:] = signal[1:] - np.float32(0.97) * signal[:-1]
        starts = np.arange(last - first) * hop
        block = emphasised[starts[:, None] + np.arange(width)] * window
        power = np.abs(np.fft.rfft(block, n_fft).astype(np.complex64)) ** 2 / n_fft
        energies = np.log(np.maximum(power.astype(np.float32) @ bank, 1e-10))
        out[first:last] = energies @ dct
    return out


def normalise(features: np.ndarray) -> np.ndarray:
    """Cepstral mean and variance normalisation (per coefficient, over the whole signal)."""
    if len(features) == 0:
        return features
    mean = features.mean(axis=0)
    std = features.std(axis=0)
    return ((features - mean) / np.where(std > 1e-6, std, 1.0)).astype(np.float32)


def banded_path(
    real: np.ndarray, synth: np.ndarray, centres: np.ndarray, radius: int
) -> np.ndarray:
    """The DTW path through the band: for every row (``real`` frame) the column (``synth``
    frame) it is matched with. Row ``i`` may use columns ``centres[i] - radius`` ..
    ``centres[i] + radius`` (shifted to stay inside); the path starts at (0, 0) and ends at
    the last row and column. Raises ``NoPath`` when no path fits in the band."""
    n, m = len(real), len(synth)
    if n == 0 or m == 0:
        raise NoPath("an empty signal has no path")
    width = min(2 * radius + 1, m)
    lows = np.clip(np.asarray(centres, dtype=np.int64) - radius, 0, m - width)
    lows = np.maximum.accumulate(lows)  # the band never moves back
    pointers = np.zeros((n, width), dtype=np.uint8)
    block_rows = max(1, 4_000_000 // (width * max(1, real.shape[1])))
    inf = np.float32(np.inf)
    previous = np.full(width, inf, dtype=np.float32)
    previous_low = 0
    synth = np.ascontiguousarray(synth, dtype=np.float32)
    cols = np.arange(width)
    for first in range(0, n, block_rows):
        last = min(n, first + block_rows)
        band = synth[lows[first:last, None] + cols]  # rows x width x coefficients
        distances = np.sqrt(((band - real[first:last, None, :]) ** 2).sum(axis=2))
        for r in range(first, last):
            low = lows[r]
            row = distances[r - first]
            if r == 0:
                current = np.full(width, inf, dtype=np.float32)
                if low == 0:
                    current[0] = row[0]
            else:
                # previous row's cost at columns low-MAX_STEP .. low+width-1
                extended = np.full(width + MAX_STEP, inf, dtype=np.float32)
                base = low - MAX_STEP
                a, b = max(previous_low, base), min(previous_low + width, low + width)
                if b > a:
                    extended[a - base : b - base] = previous[a - previous_low : b - previous_low]
                best = extended[MAX_STEP:].copy()
                step = np.zeros(width, dtype=np.uint8)
                for k in range(1, MAX_STEP + 1):
                    candidate = extended[MAX_STEP - k : MAX_STEP - k + width]
                    better = candidate < best
                    best[better] = candidate[better]
                    step[better] = k
                pointers[r] = step
                current = best + row
            previous, previous_low = current, low
    end = m - 1 - previous_low
    if not (0 <= end < width) or not np.isfinite(previous[end]):
        raise NoPath("no warping path within the band")
    path = np.empty(n, dtype=np.int64)
    col = m - 1
    for r in range(n - 1, -1, -1):
        path[r] = col
        col -= int(pointers[r, col - lows[r]])
    return path


def _coarsen(features: np.ndarray, factor: int) -> np.ndarray:
    count = -(-len(features) // factor)
    padded = np.concatenate(
        [features, np.repeat(features[-1:], count * factor - len(features), axis=0)]
    )
    return padded.reshape(count, factor, -1).mean(axis=1)


def warp(real: np.ndarray, synth: np.ndarray, *, hop_ms: int = HOP_MS) -> np.ndarray:
    """For every frame of ``real``, the frame of ``synth`` it matches (normalised MFCCs of
    both): a coarse pass with a wide band, then a fine pass around the coarse path."""
    n, m = len(real), len(synth)
    if n == 0 or m == 0:
        raise NoPath("an empty signal has no path")
    if m > MAX_STEP * n:
        raise NoPath("the transcript, spoken, is over twice as long as the recording")
    fine_radius = FINE_RADIUS
    if n <= COARSE * 4 * fine_radius or m <= COARSE * 4:
        # short: one pass with a band covering everything
        centres = np.round(np.arange(n) * (m - 1) / max(1, n - 1)).astype(np.int64)
        return banded_path(real, synth, centres, max(n, m))
    coarse_real, coarse_synth = _coarsen(real, COARSE), _coarsen(synth, COARSE)
    cn, cm = len(coarse_real), len(coarse_synth)
    reach_ms = max(MIN_BAND_MS, BAND_SHARE * n * hop_ms)
    radius = int(reach_ms / (hop_ms * COARSE)) + 1
    diagonal = np.round(np.arange(cn) * (cm - 1) / max(1, cn - 1)).astype(np.int64)
    coarse = banded_path(coarse_real, coarse_synth, diagonal, radius)
    # centre of the fine band: the coarse path, scaled back, interpolated between its frames
    centres = np.interp(np.arange(n) / COARSE, np.arange(cn), coarse * COARSE + COARSE // 2).round()
    centres[-1] = m - 1
    return banded_path(real, synth, np.minimum(centres.astype(np.int64), m - 1), fine_radius)


def map_times(path: np.ndarray, synth_ms: Sequence[int], *, hop_ms: int = HOP_MS) -> list[int]:
    """Times in the synthesis -> times in the recording: the first recording frame whose
    matched synthesis frame is at or after each time."""
    frames = np.round(np.asarray(synth_ms, dtype=np.float64) / hop_ms).astype(np.int64)
    rows = np.searchsorted(path, frames, side="left")
    return [int(min(r, len(path) - 1) * hop_ms) for r in rows]
