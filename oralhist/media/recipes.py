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
a 100-minute master now takes about 46 s of CPU where it took 140 s.
"""

from __future__ import annotations

from ..errors import UnsupportedMedia
from . import audio, derivatives, waveform

ACCESS_RATE = 24_000
ACCESS_BIT_RATE = 64_000
#: LAME's quality/speed trade-off (FFmpeg's ``compression_level``, ``lame -q``: 0 slowest).
ACCESS_LAME_QUALITY = 7


@derivatives.recipe("access", title="Making the access copy", mime="audio/mpeg", version=2)
def access_copy(making: derivatives.Making) -> derivatives.Made:
    out = making.workdir / "access.mp3"
    written = audio.encode(
        making.source,
        out,
        container_format="mp3",
        codec="libmp3lame",
        rate=ACCESS_RATE,
        channels=1,
        bit_rate=ACCESS_BIT_RATE,
        codec_options={"compression_level": str(ACCESS_LAME_QUALITY)},
        name=making.name,
        progress=making.progress_ms,
    )
    if not written:
        raise UnsupportedMedia(
            f"{making.name}: no audio could be decoded from it, so it has no access copy.",
            filename=making.name,
        )
    return derivatives.Made(
        out,
        duration_ms=round(written * 1000 / ACCESS_RATE),
        codec="mp3",
        made_with=(
            f"LAME MP3 CBR {ACCESS_BIT_RATE // 1000} kb/s mono {ACCESS_RATE // 1000} kHz"
            f" -q {ACCESS_LAME_QUALITY}; {audio.engine()}"
        ),
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
