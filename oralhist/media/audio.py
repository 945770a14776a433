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
- ``encode_mp3(source, dest, ..., processes=2)``: the MP3 access copy, its two halves
  encoded by two processes at once and joined at a frame.

``source`` is a filesystem path or a readable, seekable binary file object (what
``Storage.open(key)`` returns). Whatever FFmpeg says, callers only ever see
``UndecodableAudio`` (an ``UnsupportedMedia``) naming the file and the problem.

No other module imports ``av``. Run as ``python -m oralhist.media.audio JSON`` it is the
second process of ``encode_mp3``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from itertools import islice
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


# --- an MP3 made by two processes ------------------------------------------------------------

#: A master shorter than this is encoded by one process (a second costs ~1 s to start).
SPLIT_MIN_MS = 10 * 60_000
#: How far before the middle the second process starts: the first ``SPLIT_SETTLE_MS`` of
#: it let LAME's state settle (its psychoacoustic history), and the join is made in the rest.
SPLIT_WARMUP_MS = 20_000
SPLIT_SETTLE_MS = 3_000
#: The samples LAME puts before the audio (its ``ENCDELAY``; the LAME tag records it, and
#: decoders skip it and their own 529): tested against what a one-process encode writes.
LAME_ENCODER_DELAY = 576
#: Frames before the join whose unused bytes may receive the second stream's reservoir
#: bytes (a reservoir reaches 255 or 511 bytes back: 8 frames cover it from 32 kb/s up).
GRAFT_FRAMES = 8
#: The first process's last frames hold its flush (the encoder's padding): never joined at.
FLUSHED_FRAMES = 4


def _frame_samples(rate: int) -> int:
    return 1152 if rate >= 32_000 else 576  # MPEG-1 Layer III, else MPEG-2/2.5 (LSF)


def _main_data_begin(frame: bytes) -> int:
    """How many bytes before its header a mono Layer III frame's main data starts (its
    share of the bit reservoir, ISO/IEC 11172-3 and 13818-3 side information)."""
    at = 4 if frame[1] & 1 else 6  # after the header, and the CRC when there is one
    if frame[1] & 0x08:  # MPEG-1: 9 bits
        return (frame[at] << 1) | (frame[at + 1] >> 7)
    return frame[at]  # MPEG-2/2.5 (LSF): 8 bits


def _main_data_span(frame: bytes) -> slice:
    """Where a mono Layer III frame's main data lies (after header, CRC and side info)."""
    at = 4 if frame[1] & 1 else 6
    return slice(at + (17 if frame[1] & 0x08 else 9), len(frame))


def _graft(before: list[bytes], theirs: list[bytes], count: int) -> list[bytes]:
    """``before`` (the first stream's frames just before the join) with the last ``count``
    bytes of their main data replaced by the last ``count`` of ``theirs`` (the second
    stream's frames before the join): the reservoir bytes the second stream's first frame
    reads. Those bytes of ``before`` belong to no frame kept (they were the first stream's
    reservoir for the frame the second replaces), so nothing kept reads them."""
    ours = [bytearray(frame) for frame in before]
    donor = b"".join(frame[_main_data_span(frame)] for frame in theirs)
    if count > len(donor):
        raise ValueError("the reservoir reaches further back than the frames given")
    donor = donor[len(donor) - count :] if count else b""
    left = count
    for frame in reversed(ours):
        if left <= 0:
            break
        span = _main_data_span(bytes(frame))
        room = span.stop - span.start
        take = min(room, left)
        frame[span.stop - take : span.stop] = donor[left - take : left]
        left -= take
    if left > 0:
        raise ValueError("the reservoir reaches further back than the frames given")
    return [bytes(frame) for frame in ours]


def _mp3_frames(
    source: str,
    out: IO[bytes],
    *,
    rate: int,
    bit_rate: int,
    codec_options: dict[str, str],
    start_ms: int,
    end_ms: int | None,
    silence: tuple[list[tuple[int, int]], float] | None,
    name: str,
    progress: Callable[[int], None] | None = None,
    keep_from: int | None = None,
) -> tuple[int, int, list[bytes]]:
    """Encode mono MP3 frames (no container) of ``source`` from ``start_ms`` into ``out``, each
    as a 4-byte length and the frame; return (samples written, frames written, the frames
    from index ``keep_from`` on, kept in memory for the join)."""
    from .redact import fill_block

    ctx = av.CodecContext.create("libmp3lame", "w")
    ctx.sample_rate = rate
    ctx.layout = "mono"
    ctx.format = "s16p"
    ctx.bit_rate = bit_rate
    ctx.options = dict(codec_options)
    ctx.open()
    first = start_ms * rate // 1000  # this part's first sample on the whole time line
    written = count = 0
    kept: list[bytes] = []

    def emit(packets: Any) -> None:
        nonlocal count
        for packet in packets:
            data = bytes(packet)
            out.write(len(data).to_bytes(4, "big") + data)
            if keep_from is not None and count >= keep_from:
                kept.append(data)
            count += 1

    for block in decode(source, rate=rate, channels=1, start_ms=start_ms, end_ms=end_ms, name=name):
        if silence is not None:
            block = fill_block(block, first + written, silence[0], rate, silence[1])
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(block, dtype=np.int16).reshape(1, -1), format="s16p", layout="mono"
        )
        frame.sample_rate = rate
        frame.pts = written
        frame.time_base = Fraction(1, rate)
        written += len(block)
        emit(ctx.encode(frame))
        if progress is not None:
            progress(start_ms + written * 1000 // rate)
    emit(ctx.encode(None))
    return written, count, kept


def _read_frames(handle: IO[bytes]) -> Iterator[bytes]:
    while head := handle.read(4):
        yield handle.read(int.from_bytes(head, "big"))


def _split_points(total_ms: int, rate: int, source_rate: int) -> tuple[int, int]:
    """(where the second process starts, where the first stops), in ms: on a whole MP3 frame
    and a whole sample of the master and of the output, so both processes decode and resample
    the same samples onto the same frame grid."""
    step = math.lcm(
        math.lcm(_frame_samples(rate) * 1000, rate) // rate,
        1000 // math.gcd(1000, source_rate or 1000),
    )
    stop = (total_ms + SPLIT_WARMUP_MS) // 2 // step * step
    return (stop - SPLIT_WARMUP_MS) // step * step, stop


def encode_mp3(
    source: Source,
    dest: str | os.PathLike[str],
    *,
    rate: int,
    bit_rate: int,
    codec_options: dict[str, str] | None = None,
    silence: tuple[list[tuple[int, int]], float] | None = None,
    name: str | None = None,
    progress: Callable[[int], None] | None = None,
    processes: int = 2,
) -> int:
    """A mono CBR MP3 of ``source`` (``silence``: sample ranges at ``rate`` and a fill, as
    ``media.redact.fill_block`` takes them), made by ``processes`` (1 or 2) at once when the
    master is long enough; returns the samples written, as ``encode`` does.

    Two processes: this one encodes up to the middle; a child (``python -m
    oralhist.media.audio``) encodes from ``SPLIT_WARMUP_MS`` before the middle to the end,
    both on the same frame grid from the same samples (the split points fall on a whole
    frame and a whole sample of master and copy). Each frame's decoded audio then depends
    only on the samples it encodes, except through the bit reservoir: a Layer III frame may
    start its data up to 255/511 bytes back, in its predecessors' unused bytes. So the file
    is the first stream's frames up to a frame ``J`` of the overlap (past the child's first
    ``SPLIT_SETTLE_MS``, before the first stream's flush) whose reservoir share fits in
    what the first stream leaves unused before ``J``; those unused bytes get the second
    stream's (``_graft``), then the second stream's frames follow from ``J``. Every frame
    decodes as in the stream that made it: no gap, no repeated or corrupt frame; near the
    join the copy is as close to the master as a one-process copy (tested), and LAME's
    delay and the exact end padding are written into the tag, so its length is the
    master's to the sample. Memory: frames go to temporary files; only the overlap's are
    held. Should no frame fit (not seen), one process makes the whole file instead."""
    name = _name_of(source, name)
    options = dict(codec_options or {})
    target = os.fspath(dest)

    def whole() -> int:
        from .redact import fill_block

        def transform(block: np.ndarray, offset: int) -> np.ndarray:
            return fill_block(block, offset, silence[0], rate, silence[1])

        return encode(
            source,
            target,
            container_format="mp3",
            codec="libmp3lame",
            rate=rate,
            channels=1,
            bit_rate=bit_rate,
            codec_options=options,
            transform=transform if silence is not None else None,
            name=name,
            progress=progress,
        )

    if processes < 2 or not isinstance(source, (str, os.PathLike)):
        return whole()
    info = probe(source, name=name)
    if info.duration_ms < SPLIT_MIN_MS:
        return whole()
    import json
    import subprocess
    import sys
    import tempfile

    second_ms, stop_ms = _split_points(info.duration_ms, rate, info.sample_rate)
    second_frame = second_ms * rate // 1000 // _frame_samples(rate)
    with tempfile.TemporaryDirectory(prefix="oralhist-mp3-", dir=os.path.dirname(target)) as work:
        first_path, second_path = os.path.join(work, "first"), os.path.join(work, "second")
        job = {
            "source": os.fspath(source),
            "out": second_path,
            "rate": rate,
            "bit_rate": bit_rate,
            "codec_options": options,
            "start_ms": second_ms,
            "silence": silence,
            "name": name,
        }
        child = subprocess.Popen(
            [sys.executable, "-m", "oralhist.media.audio", json.dumps(job)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            with open(first_path, "wb") as out:
                _, _, tail = _mp3_frames(
                    os.fspath(source),
                    out,
                    rate=rate,
                    bit_rate=bit_rate,
                    codec_options=options,
                    start_ms=0,
                    end_ms=stop_ms,
                    silence=silence,
                    name=name,
                    # both halves advance together: the first's share stands for the whole
                    progress=(
                        (lambda ms: progress(ms * info.duration_ms // max(1, stop_ms)))
                        if progress
                        else None
                    ),
                    keep_from=second_frame,
                )
            said, errors = child.communicate()
        except BaseException:
            child.kill()
            child.wait()
            raise
        if child.returncode != 0:
            reason = (errors.strip().splitlines() or ["the second process failed"])[-1]
            raise UndecodableAudio(name, reason)
        second_written = int(said.split()[-1])
        # Join at the first frame (after the second stream settled, before the first one's
        # flush) whose reservoir share fits in what the first stream leaves unused there.
        usable = tail[: max(0, len(tail) - FLUSHED_FRAMES)]
        settle = SPLIT_SETTLE_MS * rate // 1000 // _frame_samples(rate)
        with open(second_path, "rb") as handle:
            head = list(islice(_read_frames(handle), len(usable)))
        join = next(
            (
                i
                for i in range(max(settle, GRAFT_FRAMES), min(len(usable), len(head)))
                if _main_data_begin(head[i]) <= _main_data_begin(usable[i])
            ),
            None,
        )
        if join is None:
            return whole()
        before = slice(join - GRAFT_FRAMES, join)
        try:
            grafted = _graft(usable[before], head[before], _main_data_begin(head[join]))
        except ValueError:  # a reservoir reaching further back than GRAFT_FRAMES
            return whole()
        total = second_ms * rate // 1000 + second_written
        output = av.open(target, "w", format="mp3")
        try:
            stream = output.add_stream("libmp3lame", rate=rate, layout="mono", options=options)
            stream.bit_rate = bit_rate
            per_frame = _frame_samples(rate)
            index = 0

            def mux(data: bytes) -> None:
                nonlocal index
                packet = av.Packet(data)
                packet.stream = stream
                packet.pts = packet.dts = index * per_frame
                packet.duration = per_frame
                packet.time_base = Fraction(1, rate)
                output.mux(packet)
                index += 1

            with open(first_path, "rb") as handle:
                for data in islice(_read_frames(handle), second_frame + join - GRAFT_FRAMES):
                    mux(data)
            for data in grafted:
                mux(data)
            with open(second_path, "rb") as handle:
                for n, data in enumerate(_read_frames(handle)):
                    if n >= join:
                        mux(data)
        finally:
            output.close()
    # muxed from packets, the stream has no encoder to tell the muxer LAME's delay
    _set_mp3_end_padding(target, total, delay=LAME_ENCODER_DELAY)
    if progress is not None:
        progress(info.duration_ms)
    return total


def _second_half(job: dict[str, Any]) -> int:
    """The child of ``encode_mp3``: encode from ``start_ms`` to the end into ``out``."""
    silence = job["silence"]
    with open(job["out"], "wb") as out:
        written, _, _ = _mp3_frames(
            job["source"],
            out,
            rate=job["rate"],
            bit_rate=job["bit_rate"],
            codec_options=job["codec_options"],
            start_ms=job["start_ms"],
            end_ms=None,
            silence=([tuple(r) for r in silence[0]], silence[1]) if silence else None,
            name=job["name"],
        )
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


def _set_mp3_end_padding(path: str, samples: int, delay: int | None = None) -> None:
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
        delay = field >> 12 if delay is None else delay
        padding = frames * per_frame - delay - samples
        if not 0 <= padding < 4096 or (delay << 12) | padding == field:
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


if __name__ == "__main__":  # the second process of ``encode_mp3``
    import json
    import sys

    print(_second_half(json.loads(sys.argv[1])))
