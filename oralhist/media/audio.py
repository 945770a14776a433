"""The one PyAV adapter: decode any recording's audio to samples, and encode derivatives.

PyAV's wheels carry FFmpeg, so every format FFmpeg reads (the 25 of ``media/probe.py``, WMA,
APE and DSD included) decodes here with nothing installed beside pip. What the rest of the
archive sees:

- ``probe(source)``: duration, sample rate, channels, codec, container of the first audio
  stream (``exact=True`` counts the decoded samples, for files whose header does not say);
- ``decode(source, rate=16000, channels=1, ...)``: the audio as int16 numpy blocks of
  ``block_ms`` each (the last may be shorter), resampled and mixed down by FFmpeg; memory
  stays bounded by one block whatever the file's length, so a 1.7 GB WAV master decodes in
  a few MB;
- ``decode_all``: the same, as one array (short files: tests, alignment windows);
- ``encode(source, dest, ...)``: a derivative (access copy, redacted copy) streamed from
  ``decode`` through an optional per-block ``transform`` into an encoder and a container.

``source`` is a filesystem path or a readable, seekable binary file object (what
``Storage.open(key)`` returns). Whatever FFmpeg says, callers only ever see
``UndecodableAudio`` (an ``UnsupportedMedia``) naming the file and the problem.

No other module imports ``av``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import IO, Any

import av
import av.error
import numpy as np

from ..errors import UnsupportedMedia

Source = str | os.PathLike[str] | IO[bytes]

#: How far before ``start_ms`` a decode seeks: a decoder needs a few frames to settle (an
#: MP3's bit reservoir, overlapping transforms), which are decoded and dropped.
SEEK_PREROLL_MS = 1000

#: Damaged packets skipped before a file is called undecodable (a scratch on a tape
#: transfer is a few bad packets; a file of garbage is thousands).
MAX_BAD_PACKETS = 100


class UndecodableAudio(UnsupportedMedia):
    """Audio FFmpeg cannot read: not audio, damaged beyond repair, or no audio stream.
    ``details`` carry ``filename`` and ``reason``."""

    code = "undecodable_audio"

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(f"{filename}: {reason}", filename=filename, reason=reason)
        self.filename = filename
        self.reason = reason


@dataclass(frozen=True)
class AudioInfo:
    """The first audio stream of a file, as FFmpeg reads it."""

    duration_ms: int
    sample_rate: int
    channels: int
    codec: str
    format_name: str
    bit_rate: int | None = None


def _name_of(source: Source, name: str | None) -> str:
    if name:
        return name
    if isinstance(source, (str, os.PathLike)):
        return os.path.basename(os.fspath(source))
    return os.path.basename(str(getattr(source, "name", "") or "")) or "audio"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, av.error.FFmpegError):
        text = exc.strerror or str(exc)
        if isinstance(exc, av.error.InvalidDataError):
            return f"FFmpeg cannot read it as audio ({text})"
        return f"FFmpeg could not read it ({text})"
    if isinstance(exc, (EOFError, OSError)):
        return f"the file could not be read ({exc})"
    return f"it could not be decoded ({type(exc).__name__}: {exc})"


@contextmanager
def _open(source: Source, name: str) -> Iterator[tuple[Any, Any]]:
    """The container and its first audio stream; every failure becomes ``UndecodableAudio``."""
    if isinstance(source, (str, os.PathLike)) and os.path.getsize(source) == 0:
        raise UndecodableAudio(name, "the file is empty (0 bytes)")
    try:
        container = av.open(source if not isinstance(source, os.PathLike) else os.fspath(source))
    except Exception as exc:  # FFmpeg's errors, and anything a broken header provokes
        raise UndecodableAudio(name, _reason(exc)) from None
    try:
        streams = list(container.streams.audio)
        if not streams:
            raise UndecodableAudio(name, "it holds no audio stream")
        stream = streams[0]
        stream.thread_type = "AUTO"
        yield container, stream
    finally:
        container.close()


def _layout(channels: int) -> str:
    if channels == 1:
        return "mono"
    if channels == 2:
        return "stereo"
    raise ValueError("decode to 1 (mono) or 2 (stereo) channels")


def _packets(container: Any, stream: Any, name: str) -> Iterator[Any]:
    """Decoded frames of ``stream``; a damaged packet is skipped, too many end the file."""
    bad = 0
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                bad += 1
                if bad > MAX_BAD_PACKETS:
                    reason = f"more than {MAX_BAD_PACKETS} damaged packets: the audio is unreadable"
                    raise UndecodableAudio(name, reason) from None
                continue
            yield from frames
    except UndecodableAudio:
        raise
    except Exception as exc:
        raise UndecodableAudio(name, _reason(exc)) from None


def probe(source: Source, *, name: str | None = None, exact: bool = False) -> AudioInfo:
    """What the first audio stream is. The duration comes from the stream or container
    header; ``exact`` (or a header that does not say) counts the decoded samples instead,
    which reads the whole file."""
    name = _name_of(source, name)
    with _open(source, name) as (container, stream):
        ctx = stream.codec_context
        rate = int(ctx.sample_rate or stream.rate or 0)
        channels = int(ctx.channels or 0)
        duration_ms: int | None = None
        if not exact:
            if stream.duration is not None and stream.time_base is not None:
                duration_ms = round(float(stream.duration * stream.time_base) * 1000)
            elif container.duration is not None:
                duration_ms = round(container.duration / 1000)  # microseconds
        if duration_ms is None or duration_ms <= 0 or not rate:
            samples = 0
            for frame in _packets(container, stream, name):
                samples += frame.samples
                rate = rate or int(frame.sample_rate)
                channels = channels or len(frame.layout.channels)
            if not rate:
                raise UndecodableAudio(name, "it holds no decodable audio")
            duration_ms = round(samples * 1000 / rate)
        if duration_ms <= 0:
            raise UndecodableAudio(name, "it holds no audio (0 seconds)")
        return AudioInfo(
            duration_ms=duration_ms,
            sample_rate=rate,
            channels=channels,
            codec=ctx.name,
            format_name=container.format.name,
            bit_rate=int(ctx.bit_rate or container.bit_rate or 0) or None,
        )


def decode(
    source: Source,
    *,
    rate: int = 16000,
    channels: int = 1,
    start_ms: int = 0,
    end_ms: int | None = None,
    block_ms: int = 10000,
    name: str | None = None,
) -> Iterator[np.ndarray]:
    """The audio from ``start_ms`` to ``end_ms`` (default: the end) as int16 blocks of
    ``block_ms`` at ``rate`` Hz: 1-D for mono, ``(n, 2)`` for stereo. Sample ``i`` of the
    whole stream is at ``start_ms + i * 1000 / rate`` ms."""
    name = _name_of(source, name)
    if start_ms < 0 or (end_ms is not None and end_ms < start_ms):
        raise ValueError("need 0 <= start_ms <= end_ms")
    block = max(1, rate * block_ms // 1000) * channels
    first = start_ms * rate // 1000  # output samples, counted from the stream's start
    last = None if end_ms is None else end_ms * rate // 1000
    with _open(source, name) as (container, stream):
        resampler = av.AudioResampler(format="s16", layout=_layout(channels), rate=rate)
        position = 0
        origin = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        if start_ms > 0 and stream.time_base is not None:
            try:
                target = max(0, start_ms - SEEK_PREROLL_MS) / 1000 + origin
                container.seek(int(target / stream.time_base), stream=stream)
                position = -1  # set from the first frame's time
            except av.error.FFmpegError:
                position = 0  # not seekable: decode from the start and skip
        pending: list[np.ndarray] = []
        held = 0

        def frames() -> Iterator[Any]:
            for frame in _packets(container, stream, name):
                yield from resampler.resample(frame)
            yield from resampler.resample(None)

        for out in frames():
            if position < 0:
                # Where the first frame after the seek lies, counted like a decode from the
                # start: from the stream's first sample (an MP3's starts after its delay).
                position = round((float(out.time or 0) - origin) * rate) if out.time else 0
            data = out.to_ndarray().reshape(-1)
            count = len(data) // channels
            lo = max(0, first - position)
            hi = count if last is None else max(0, min(count, last - position))
            position += count
            if hi > lo:
                pending.append(data[lo * channels : hi * channels])
                held += (hi - lo) * channels
            while held >= block:
                joined = np.concatenate(pending)
                yield _shape(joined[:block], channels)
                rest = joined[block:]
                pending, held = ([rest] if len(rest) else []), len(rest)
            if last is not None and position >= last:
                break
        if held:
            yield _shape(np.concatenate(pending), channels)


def _shape(data: np.ndarray, channels: int) -> np.ndarray:
    data = np.ascontiguousarray(data, dtype=np.int16)
    return data if channels == 1 else data.reshape(-1, channels)


def decode_all(source: Source, **kwargs: Any) -> np.ndarray:
    """``decode`` as one array (for short stretches: its memory is the whole result)."""
    channels = kwargs.get("channels", 1)
    blocks = list(decode(source, **kwargs))
    if not blocks:
        return np.zeros((0,) if channels == 1 else (0, channels), dtype=np.int16)
    return np.concatenate(blocks)


#: A per-block change made while encoding: ``transform(block, first_sample) -> block`` where
#: ``first_sample`` counts samples (per channel) from ``start_ms``. The redacted copy
#: silences its ranges with one.
Transform = Callable[[np.ndarray, int], np.ndarray]


def encode(
    source: Source,
    dest: str | os.PathLike[str] | IO[bytes],
    *,
    container_format: str = "mp4",
    codec: str = "aac",
    rate: int = 48000,
    channels: int = 1,
    bit_rate: int | None = 64000,
    start_ms: int = 0,
    end_ms: int | None = None,
    transform: Transform | None = None,
    options: dict[str, str] | None = None,
    codec_options: dict[str, str] | None = None,
    name: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Encode ``source`` (from ``start_ms`` to ``end_ms``) into ``dest`` with ``codec`` in
    ``container_format``; return the number of samples (per channel) written. Streams: memory
    stays bounded by one decode block and the encoder's own buffers. ``progress(ms)`` is
    called after each block with the time reached. ``options`` go to the muxer (e.g.
    ``{"movflags": "+faststart"}`` puts an MP4's index first, so playback starts at once);
    ``codec_options`` go to the encoder (e.g. ``{"compression_level": "7"}``, LAME's speed).

    The master is converted once, by ``decode``'s one swresample step (rate, mix-down and
    16-bit samples together); mono frames are handed over as planar 16-bit (``s16p``, the
    same bytes as packed mono), the format LAME takes, so the encoder converts nothing."""
    name = _name_of(source, name)
    layout = _layout(channels)
    target = dest if not isinstance(dest, os.PathLike) else os.fspath(dest)
    try:
        output = av.open(target, "w", format=container_format, options=options or {})
    except Exception as exc:
        raise UndecodableAudio(_name_of(dest, None), _reason(exc)) from None
    written = 0
    try:
        stream = output.add_stream(codec, rate=rate, layout=layout, options=codec_options or {})
        if bit_rate:
            stream.bit_rate = bit_rate
        for block in decode(
            source, rate=rate, channels=channels, start_ms=start_ms, end_ms=end_ms, name=name
        ):
            if transform is not None:
                block = transform(block, written)
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(block, dtype=np.int16).reshape(1, -1),
                format="s16p" if channels == 1 else "s16",
                layout=layout,
            )
            frame.sample_rate = rate
            frame.pts = written
            frame.time_base = Fraction(1, rate)
            written += len(block)
            for packet in stream.encode(frame):
                output.mux(packet)
            if progress is not None:
                progress(start_ms + written * 1000 // rate)
        for packet in stream.encode(None):
            output.mux(packet)
    finally:
        output.close()
    if container_format == "mp3" and isinstance(target, str):
        _set_mp3_end_padding(target, written)
    return written


#: Where the LAME tag's fields sit after the "Xing"/"Info" identifier (FFmpeg's mp3 muxer
#: writes LAME's layout): frame count, the 12+12-bit encoder delay and end padding, the
#: tag's CRC-16, and how many bytes of the frame that CRC covers.
_XING_FRAMES, _LAME_DELAY_PADDING, _LAME_TAG_CRC, _LAME_CRC_SPAN = 8, 141, 154, 190


def _crc16(data: bytes) -> int:
    """CRC-16/ARC (FFmpeg's ``AV_CRC_16_ANSI_LE``, LAME's tag CRC)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _set_mp3_end_padding(path: str, samples: int) -> None:
    """Write the exact end padding into an MP3's LAME tag, so that players trim the copy to
    ``samples``: the master's length to the sample.

    FFmpeg's LAME wrapper misses the padding when the input ends in the first 47 samples of
    an MP3 frame (LAME then flushes one frame fewer than FFmpeg's queue expects, and the last
    packet carries no padding): a player then plays up to 46 samples too many, a
    millisecond or two at 24 kHz. The padding is simply ``frames * samples per frame -
    encoder delay - samples``; the tag's CRC is written again as the muxer computes it."""
    with open(path, "r+b") as handle:
        head = handle.read(10)
        start = 0
        if head[:3] == b"ID3" and len(head) == 10:  # skip the ID3v2 tag (syncsafe size)
            start = 10 + ((head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9])
        handle.seek(start)
        frame = bytearray(handle.read(512))
        if len(frame) < 4 or frame[0] != 0xFF or frame[1] & 0xE0 != 0xE0:
            return
        at = max(frame.find(b"Info", 4, 40), frame.find(b"Xing", 4, 40))
        if at < 0 or at + _LAME_TAG_CRC + 2 > len(frame) or len(frame) < _LAME_CRC_SPAN:
            return
        per_frame = 1152 if frame[1] & 0x18 == 0x18 else 576  # MPEG-1, else MPEG-2/2.5
        frames = int.from_bytes(frame[at + _XING_FRAMES : at + _XING_FRAMES + 4], "big")
        field = int.from_bytes(frame[at + _LAME_DELAY_PADDING : at + _LAME_DELAY_PADDING + 3])
        delay = field >> 12
        padding = frames * per_frame - delay - samples
        if not 0 <= padding < 4096 or padding == field & 0xFFF:
            return
        frame[at + _LAME_DELAY_PADDING : at + _LAME_DELAY_PADDING + 3] = (
            (delay << 12) | padding
        ).to_bytes(3, "big")
        frame[at + _LAME_TAG_CRC : at + _LAME_TAG_CRC + 2] = b"\0\0"
        crc = _crc16(bytes(frame[:_LAME_CRC_SPAN]))
        frame[at + _LAME_TAG_CRC : at + _LAME_TAG_CRC + 2] = crc.to_bytes(2, "big")
        handle.seek(start)
        handle.write(frame)


def engine() -> str:
    """What decodes and encodes here, for a derivative's provenance."""
    codec = av.library_versions.get("libavcodec") or ()
    return f"PyAV {av.__version__}, libavcodec {'.'.join(str(v) for v in codec)}"
