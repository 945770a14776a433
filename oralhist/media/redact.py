"""Silencing time ranges of a PCM WAV master into a new file: the redacted audio served to
everyone but archivists (the master is never altered, DESIGN.md invariant 7).

Streamed in blocks (memory does not grow with the file) with the standard library's ``wave``
reader and writer; every frame outside the ranges is copied byte for byte (sample-exact), the
frames inside become digital silence (or, as an archive setting, a quiet tone), and the copy
keeps the master's sample rate, channels, sample width and frame count, so its duration and
every time code stay the master's to the sample. Pure: no Flask, no database.
"""

from __future__ import annotations

import math
import wave
from collections.abc import Sequence
from typing import BinaryIO

from ..errors import UnsupportedMedia

#: Frames per block read and written (about 1.4 s at 48 kHz stereo 24-bit: 384 KB).
BLOCK_FRAMES = 65536


def frame_spans(
    spans_ms: Sequence[tuple[int, int]], rate: int, frames: int
) -> list[tuple[int, int]]:
    """Millisecond ranges as frame ranges [start, end) within ``frames``: the start rounded
    down and the end up, so no sample of a redacted moment is left audible."""
    out = []
    for start_ms, end_ms in sorted(spans_ms):
        a = max(0, (start_ms * rate) // 1000)
        b = min(frames, -((-end_ms * rate) // 1000))
        if b > a:
            if out and a <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], b))
            else:
                out.append((a, b))
    return out


def _silence(frames: int, width: int, channels: int) -> bytes:
    # 8-bit WAV is unsigned (silence is 128); wider samples are signed (silence is 0)
    return (b"\x80" if width == 1 else b"\x00") * (frames * width * channels)


def _tone(first: int, frames: int, rate: int, width: int, channels: int, hz: float) -> bytes:
    """A sine at ``hz`` and -20 dBFS (phase continuous from frame ``first``)."""
    import numpy as np

    t = (np.arange(first, first + frames, dtype=np.float64)) / rate
    peak = 0.1 * (2 ** (8 * width - 1) - 1)
    wave_ = np.round(peak * np.sin(2 * math.pi * hz * t)).astype(np.int64)
    wave_ = np.repeat(wave_, channels)
    if width == 1:
        return (wave_ + 128).astype(np.uint8).tobytes()
    if width == 3:
        raw = wave_.astype("<i4").tobytes()
        return b"".join(raw[i : i + 3] for i in range(0, len(raw), 4))
    return wave_.astype({2: "<i2", 4: "<i4"}[width]).tobytes()


def silence_wav(
    source: BinaryIO,
    target: BinaryIO,
    spans_ms: Sequence[tuple[int, int]],
    *,
    tone_hz: float = 0.0,
    name: str = "recording",
) -> int:
    """Copy the WAV ``source`` to ``target`` with ``spans_ms`` silenced; returns the frame
    count. Raises ``UnsupportedMedia`` for a file the ``wave`` module cannot read (not PCM)."""
    try:
        reader = wave.open(source, "rb")  # noqa: SIM115 (closed by the with below)
    except (wave.Error, EOFError) as exc:
        raise UnsupportedMedia(
            f"{name} is not a PCM WAV file this archive can silence ({exc})."
        ) from None
    with reader:
        channels, width, rate, frames = (
            reader.getnchannels(),
            reader.getsampwidth(),
            reader.getframerate(),
            reader.getnframes(),
        )
        spans = frame_spans(spans_ms, rate, frames)
        with wave.open(target, "wb") as writer:
            writer.setnchannels(channels)
            writer.setsampwidth(width)
            writer.setframerate(rate)
            writer.setnframes(frames)
            position = 0
            while position < frames:
                count = min(BLOCK_FRAMES, frames - position)
                block = bytearray(reader.readframes(count))
                got = len(block) // (width * channels)
                if got == 0:
                    break
                for a, b in spans:
                    lo, hi = max(a, position), min(b, position + got)
                    if lo < hi:
                        fill = (
                            _tone(lo, hi - lo, rate, width, channels, tone_hz)
                            if tone_hz
                            else _silence(hi - lo, width, channels)
                        )
                        at = (lo - position) * width * channels
                        block[at : at + len(fill)] = fill
                writer.writeframesraw(bytes(block))
                position += got
    return frames


def fill_block(block, offset: int, ranges: Sequence[tuple[int, int]], rate: int, tone_hz: float):
    """For decoded audio (``media.audio``'s int16 blocks, ``offset`` frames in): the frames
    of ``ranges`` set to silence, or to the quiet tone."""
    import numpy as np

    if not block.flags.writeable:
        block = block.copy()
    count = len(block)
    for a, b in ranges:
        lo, hi = max(a, offset), min(b, offset + count)
        if lo >= hi:
            continue
        if not tone_hz:
            block[lo - offset : hi - offset] = 0
            continue
        t = np.arange(lo, hi, dtype=np.float64) / rate
        sine = np.round(0.1 * 32767 * np.sin(2 * math.pi * tone_hz * t)).astype(np.int16)
        block[lo - offset : hi - offset] = sine.reshape(-1, 1) if block.ndim == 2 else sine
    return block
