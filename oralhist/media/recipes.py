"""The derivatives every master gets at ingest: the access copy and the waveform
(``media/derivatives.py`` explains derivatives; this module only says how each is made).

The access copy is MP3, constant 64 kb/s, mono, 44.1 kHz:
- every browser in use plays MP3 natively on every system: Safari on macOS and iOS, Chrome,
  Edge and Firefox (which on Linux plays AAC only through a system FFmpeg, and Safari plays
  Opus only from macOS 12 / iOS 17 and Ogg not before Safari 18.4);
- constant bitrate makes a position a byte offset, so a player seeks in a 100-minute file
  with one Range request (a VBR MP3 seeks by a 100-point table: a minute off at that
  length), and its LAME header records the encoder delay and padding, so the copy keeps
  the master's duration to the sample (tested);
- 64 kb/s mono is transparent for speech, and a 100-minute interview is 48 MB where its
  WAV master may be 1.7 GB. Stereo masters are mixed down (the access copy is for listening;
  the master keeps the channels).
"""

from __future__ import annotations

from ..errors import UnsupportedMedia
from . import audio, derivatives, waveform

ACCESS_RATE = 44_100
ACCESS_BIT_RATE = 64_000


@derivatives.recipe("access", title="Making the access copy", mime="audio/mpeg", version=1)
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
        made_with=f"LAME MP3 CBR {ACCESS_BIT_RATE // 1000} kb/s mono; {audio.engine()}",
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
