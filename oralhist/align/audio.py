"""Audio for the engines: 16 kHz mono 16-bit samples of one recording part, through the
archive's one audio adapter (``oralhist.media.audio``: PyAV, FFmpeg inside the wheel, every
format the archive accepts)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from ..media import audio as adapter

RATE = 16000


def samples(source: str | BinaryIO, *, start_ms: int = 0, end_ms: int | None = None) -> np.ndarray:
    """The part's audio as int16 samples at 16 kHz mono, from ``start_ms`` to ``end_ms``.

    The whole stretch as one array (32 KB a second: 115 MB for an hour): for short
    stretches; an alignment spools a part's ``blocks`` to a file instead (``pipeline.Audio``).
    """
    return adapter.decode_all(source, rate=RATE, channels=1, start_ms=start_ms, end_ms=end_ms)


def blocks(source: str | BinaryIO) -> Iterator[np.ndarray]:
    """The part's audio as int16 blocks of a few seconds at 16 kHz mono (what the alignment
    spools to a file: the whole part is never one array in memory)."""
    return adapter.decode(source, rate=RATE, channels=1)
