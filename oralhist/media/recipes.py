"""The derivatives every master gets at ingest: the access copy and the waveform
(``media/derivatives.py`` explains derivatives; this module only says how each is made).

The access copy is MP3, constant 64 kb/s, mono, 24 kHz (MPEG-2 Layer III):
- every browser in use plays MP3 natively on every system: Safari on macOS and iOS, Chrome,
  Edge and Firefox (which on Linux plays AAC only through a system FFmpeg, and Safari plays
  Opus only from macOS 12 / iOS 17 and Ogg not before Safari 18.4); the MPEG-2 sample rates
  (16, 22.05, 24 kHz) are part of the same MP3 standard (ISO/IEC 13818-3) every one of their
  decoders implements, and are what spoken-word podcasts and audiobooks use;
- constant bitrate makes a position a byte offset, so a player seeks in a 100-minute file
  with one Range request (a VBR MP3 seeks by a 100-point table: a minute off at that
  length), and its LAME header records the encoder delay and padding, so the copy keeps
  the master's duration to the sample (tested);
- 64 kb/s mono is transparent for speech, and a 100-minute interview is 48 MB where its
  WAV master may be 1.7 GB. Stereo masters are mixed down (the access copy is for listening;
  the master keeps the channels).

Why 24 kHz and LAME's speed setting 7 (measured on a 10-minute, 48 kHz 24-bit stereo master,
``bench/bench_derivatives.py``): nearly all the time is LAME's (decoding and the one
resampling step are under a tenth). At 64 kb/s LAME keeps only what the bits can carry: at
44.1 kHz it encodes up to 16 kHz, at 24 kHz up to 11 kHz, which is the whole of speech
(voice and sibilants; telephone speech stops at 3.4 kHz, "wideband" at 7 kHz) and is the
rate LAME itself picks for this bitrate when left to choose. Half the samples is half
LAME's work, and the same 64 kb/s spent below 11 kHz gives fewer artefacts there.
``compression_level`` 7 (``lame -q 7``: the psychoacoustic model kept, its noise-shaping
search skipped) costs 4.6 s of CPU per 10 minutes against 5.7 s at ``-q 5`` and 7.3 s at
LAME's default (``-q 3``); at 44.1 kHz and ``-q 3`` (version 1 of this recipe) it was 13-14 s:
a 100-minute master now takes about 50 s of CPU where it took 140 s. On two cores the two
halves are encoded at once and joined (``audio.encode_mp3``), which halves the wall time.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import UnsupportedMedia
from . import audio, derivatives, waveform
from .redact import fill_block, frame_spans, silence_wav

ACCESS_RATE = 24_000
ACCESS_BIT_RATE = 64_000
#: LAME's quality/speed trade-off (FFmpeg's ``compression_level``, ``lame -q``: 0 slowest).
ACCESS_LAME_QUALITY = 7


#: Processes that make one MP3 (``audio.encode_mp3``: two halves joined): the cores there are.
PROCESSES = min(2, os.cpu_count() or 1)


def _mp3(
    making: derivatives.Making,
    out: Path,
    silence: tuple[list[tuple[int, int]], float] | None = None,
) -> int:
    """The access copy's encoding of ``making.source`` into ``out`` (samples written)."""
    written = audio.encode_mp3(
        making.source,
        out,
        rate=ACCESS_RATE,
        bit_rate=ACCESS_BIT_RATE,
        codec_options={"compression_level": str(ACCESS_LAME_QUALITY)},
        silence=silence,
        name=making.name,
        progress=making.progress_ms,
        processes=PROCESSES,
    )
    if not written:
        raise UnsupportedMedia(
            f"{making.name}: no audio could be decoded from it, so it has no access copy.",
            filename=making.name,
        )
    return written


ACCESS_MADE_WITH = (
    f"LAME MP3 CBR {ACCESS_BIT_RATE // 1000} kb/s mono {ACCESS_RATE // 1000} kHz"
    f" -q {ACCESS_LAME_QUALITY}"
)


@derivatives.recipe("access", title="Making the access copy", mime="audio/mpeg", version=2)
def access_copy(making: derivatives.Making) -> derivatives.Made:
    out = making.workdir / "access.mp3"
    written = _mp3(making, out)
    return derivatives.Made(
        out,
        duration_ms=round(written * 1000 / ACCESS_RATE),
        codec="mp3",
        made_with=f"{ACCESS_MADE_WITH}; {audio.engine()}",
    )


# --- silenced copies (redactions: ``services/redacted_audio.py`` says which and when) --------
# Their settings: ``spans`` ([start_ms, end_ms] pairs relative to the part) and ``fill_hz``
# (0: digital silence; else a quiet tone at that frequency).


def _silence(making: derivatives.Making, rate: int) -> tuple[list[tuple[int, int]], float]:
    """The ranges to silence as sample ranges at ``rate``, and the fill."""
    frames = -(-making.duration_ms * rate // 1000)
    ranges = frame_spans([tuple(span) for span in making.params["spans"]], rate, frames)
    return ranges, float(making.params.get("fill_hz") or 0)


def _silencer(making: derivatives.Making, rate: int) -> audio.Transform:
    ranges, fill = _silence(making, rate)

    def transform(block, offset: int):
        return fill_block(block, offset, ranges, rate, fill)

    return transform


@derivatives.recipe(
    "redacted-access",
    title="Silencing the redacted passages in the access copy",
    mime="audio/mpeg",
    version=1,
)
def redacted_access_copy(making: derivatives.Making) -> derivatives.Made:
    """The access copy with the ranges silenced in the decoded samples, before LAME: what
    listening gets while a redaction is in force."""
    out = making.workdir / "redacted.mp3"
    written = _mp3(making, out, _silence(making, ACCESS_RATE))
    return derivatives.Made(
        out,
        duration_ms=round(written * 1000 / ACCESS_RATE),
        codec="mp3",
        made_with=f"{ACCESS_MADE_WITH}, redacted ranges silenced; {audio.engine()}",
    )


@derivatives.recipe(
    "redacted-master",
    title="Silencing the redacted passages in the master's format",
    mime="audio/wav",
    version=1,
)
def redacted_master_copy(making: derivatives.Making) -> derivatives.Made:
    """What a download gets while a redaction is in force. A PCM WAV master gives a WAV:
    every frame outside the ranges copied byte for byte (``media.redact.silence_wav``); any
    other format an AAC copy in MP4 at the master's rate (what every current browser plays;
    the silencing is applied to the decoded samples, so the ranges are digital silence
    before encoding)."""
    fill = float(making.params.get("fill_hz") or 0)
    spans = [tuple(span) for span in making.params["spans"]]
    out = making.workdir / "redacted.wav"
    try:
        with open(making.source, "rb") as source, open(out, "wb") as target:
            silence_wav(source, target, spans, tone_hz=fill, name=making.name)
    except UnsupportedMedia:
        pass  # not PCM WAV: encoded below
    else:
        return derivatives.Made(
            out,
            duration_ms=making.duration_ms,
            codec="pcm",
            mime="audio/wav",
            made_with="PCM WAV copied frame for frame, redacted ranges silenced",
        )
    info = audio.probe(making.source, name=making.name)
    rate = info.sample_rate or 48_000
    channels = min(info.channels or 1, 2)
    out = making.workdir / "redacted.m4a"
    written = audio.encode(
        making.source,
        out,
        container_format="mp4",
        codec="aac",
        rate=rate,
        channels=channels,
        bit_rate=64_000 * channels,
        transform=_silencer(making, rate),
        options={"movflags": "+faststart"},
        name=making.name,
        progress=making.progress_ms,
    )
    return derivatives.Made(
        out,
        duration_ms=round(written * 1000 / rate),
        codec="aac",
        mime="audio/mp4",
        made_with=f"AAC {64 * channels} kb/s in MP4, redacted ranges silenced; {audio.engine()}",
    )


@derivatives.recipe("waveform", title="Computing the waveform", mime="application/json", version=1)
def waveform_peaks(making: derivatives.Making) -> derivatives.Made:
    reached = [0]

    def blocks():
        for block in audio.decode(
            making.source, rate=waveform.SAMPLE_RATE, block_ms=60_000, name=making.name
        ):
            reached[0] += len(block)
            making.progress_ms(reached[0] * 1000 // waveform.SAMPLE_RATE, "Reading the audio")
            yield block

    data = waveform.peaks(blocks())
    if not len(data):
        raise UnsupportedMedia(
            f"{making.name}: no audio could be decoded from it, so it has no waveform.",
            filename=making.name,
        )
    out = making.workdir / "waveform.json"
    out.write_bytes(waveform.waveform_json(data))
    return derivatives.Made(
        out,
        duration_ms=round(reached[0] * 1000 / waveform.SAMPLE_RATE),
        codec=None,
        made_with=(
            f"audiowaveform JSON v2, {waveform.SAMPLES_PER_PIXEL} samples/pixel at"
            f" {waveform.SAMPLE_RATE} Hz; {audio.engine()}"
        ),
    )
