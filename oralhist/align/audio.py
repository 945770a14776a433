"""Audio for the engines: 16 kHz mono 16-bit samples of one recording part.

The one door to decoding for this package. It uses the archive's audio adapter
(``oralhist.media.audio``, PyAV with FFmpeg inside the wheel: every format the archive accepts)
when present, and PyAV directly otherwise.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np

RATE = 16000


def samples(source: str | BinaryIO, *, start_ms: int = 0, end_ms: int | None = None) -> np.ndarray:
    """The part's audio as int16 samples at 16 kHz mono, from ``start_ms`` to ``end_ms``.

    A part is held whole while it is aligned: 32 KB a second (115 MB for an hour), far less
    than the model's search; decoding itself streams in blocks.
    """
    try:
        from ..media import audio as adapter  # the jobs lane's adapter
    except ImportError:  # pragma: no cover - before the adapter landed
        adapter = None
    if adapter is not None and hasattr(adapter, "decode_all"):
        return np.asarray(
            adapter.decode_all(source, rate=RATE, channels=1, start_ms=start_ms, end_ms=end_ms),
            dtype=np.int16,
        ).reshape(-1)
    return _pyav_samples(source, start_ms=start_ms, end_ms=end_ms)


def _pyav_samples(source, *, start_ms: int, end_ms: int | None) -> np.ndarray:
    import av

    blocks: list[np.ndarray] = []
    with av.open(source) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                blocks.append(out.to_ndarray().reshape(-1).copy())
        for out in resampler.resample(None):
            blocks.append(out.to_ndarray().reshape(-1).copy())
    pcm = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.int16)
    first = start_ms * RATE // 1000
    last = None if end_ms is None else end_ms * RATE // 1000
    return pcm[first:last].astype(np.int16, copy=False)
