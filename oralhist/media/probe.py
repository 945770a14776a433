"""The one mutagen adapter: what is this file, and can the archive keep it as a recording?

``probe_audio`` identifies the format from the file's CONTENT (mutagen scores the bytes; the
name is hidden from it), refuses what is not audio with a message a depositor can act on, and
checks that the name the uploader gave does not claim a different format. Whatever mutagen
raises, callers only ever see ``UnsupportedMedia``.

No other module imports mutagen.
"""

from __future__ import annotations

import importlib
import math
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import mutagen

from ..errors import UnsupportedMedia
from .sniff import describe_content, extension_of
from .storage import display_filename


@dataclass(frozen=True)
class AudioInfo:
    """What the archive records about a recording's audio (DESIGN: Recording)."""

    format: str  # family: "mp3", "wav", "flac", "ogg-vorbis", "opus", "m4a", ...
    mime: str  # what to serve it as
    codec: str | None
    duration_ms: int
    sample_rate: int | None
    channels: int | None
    bitrate: int | None
    tags: dict[str, str] = field(default_factory=dict)
    browser_playable: bool = False


# family -> (label for messages, mime type for serving)
FAMILIES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "mp3": ("MP3", "audio/mpeg"),
        "wav": ("WAV", "audio/wav"),
        "flac": ("FLAC", "audio/flac"),
        "ogg-vorbis": ("Ogg Vorbis", "audio/ogg"),
        "opus": ("Opus", "audio/ogg"),
        "ogg-flac": ("Ogg FLAC", "audio/ogg"),
        "speex": ("Speex", "audio/ogg"),
        "m4a": ("MPEG-4 audio", "audio/mp4"),
        "aac": ("AAC", "audio/aac"),
        "aiff": ("AIFF", "audio/aiff"),
        "wma": ("Windows Media Audio", "audio/x-ms-wma"),
        "ape": ("Monkey's Audio", "audio/x-ape"),
        "wavpack": ("WavPack", "audio/x-wavpack"),
        "tta": ("TrueAudio", "audio/x-tta"),
        "musepack": ("Musepack", "audio/x-musepack"),
        "dsf": ("DSF", "audio/x-dsf"),
        "dsdiff": ("DSDIFF", "audio/x-dff"),
        "ac3": ("AC-3", "audio/ac3"),
        "optimfrog": ("OptimFROG", "audio/x-optimfrog"),
        "tak": ("TAK", "audio/x-tak"),
    }
)
FALLBACK_MIME = "application/octet-stream"

# The families a browser's <audio> element plays everywhere; the rest need an access copy.
# "m4a" and "wav" also depend on the codec (AAC, PCM): see _is_browser_playable.
BROWSER_PLAYABLE: frozenset[str] = frozenset(
    {"mp3", "wav", "flac", "ogg-vorbis", "opus", "m4a", "aac"}
)

_OGG = frozenset({"ogg-vorbis", "opus", "ogg-flac", "speex"})
_MP4 = frozenset({"m4a"})

# lower-case extension (with the dot) -> the families a file with that name may contain
ACCEPTED_EXTENSIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        ".mp3": frozenset({"mp3"}),
        ".mp2": frozenset({"mp3"}),
        ".mpga": frozenset({"mp3"}),
        ".wav": frozenset({"wav"}),
        ".wave": frozenset({"wav"}),
        ".bwf": frozenset({"wav"}),
        ".flac": frozenset({"flac"}),
        ".ogg": _OGG,
        ".oga": _OGG,
        ".opus": frozenset({"opus"}),
        ".spx": frozenset({"speex"}),
        ".oggflac": frozenset({"ogg-flac"}),
        ".m4a": _MP4,
        ".m4b": _MP4,
        ".mp4": _MP4,
        ".3gp": _MP4,
        ".3g2": _MP4,
        ".aac": frozenset({"m4a", "aac"}),
        ".adts": frozenset({"aac"}),
        ".aif": frozenset({"aiff"}),
        ".aiff": frozenset({"aiff"}),
        ".aifc": frozenset({"aiff"}),
        ".wma": frozenset({"wma"}),
        ".asf": frozenset({"wma"}),
        ".ape": frozenset({"ape"}),
        ".wv": frozenset({"wavpack"}),
        ".tta": frozenset({"tta"}),
        ".mpc": frozenset({"musepack"}),
        ".mpp": frozenset({"musepack"}),
        ".mp+": frozenset({"musepack"}),
        ".dsf": frozenset({"dsf"}),
        ".dff": frozenset({"dsdiff"}),
        ".ac3": frozenset({"ac3"}),
        ".eac3": frozenset({"ac3"}),
        ".ec3": frozenset({"ac3"}),
        ".ofr": frozenset({"optimfrog"}),
        ".ofs": frozenset({"optimfrog"}),
        ".tak": frozenset({"tak"}),
    }
)

# mutagen class name -> family
_CLASS_FAMILY = {
    "MP3": "mp3",
    "WAVE": "wav",
    "FLAC": "flac",
    "OggVorbis": "ogg-vorbis",
    "OggOpus": "opus",
    "OggFLAC": "ogg-flac",
    "OggSpeex": "speex",
    "MP4": "m4a",
    "AAC": "aac",
    "AIFF": "aiff",
    "ASF": "wma",
    "MonkeysAudio": "ape",
    "WavPack": "wavpack",
    "TrueAudio": "tta",
    "Musepack": "musepack",
    "DSF": "dsf",
    "DSDIFF": "dsdiff",
    "AC3": "ac3",
    "OptimFROG": "optimfrog",
    "TAK": "tak",
}
_FAMILY_CLASS = {
    "mp3": ("mp3", "MP3"),
    "wav": ("wave", "WAVE"),
    "flac": ("flac", "FLAC"),
    "ogg-vorbis": ("oggvorbis", "OggVorbis"),
    "opus": ("oggopus", "OggOpus"),
    "ogg-flac": ("oggflac", "OggFLAC"),
    "speex": ("oggspeex", "OggSpeex"),
    "m4a": ("mp4", "MP4"),
    "aac": ("aac", "AAC"),
    "aiff": ("aiff", "AIFF"),
    "wma": ("asf", "ASF"),
    "ape": ("monkeysaudio", "MonkeysAudio"),
    "wavpack": ("wavpack", "WavPack"),
    "tta": ("trueaudio", "TrueAudio"),
    "musepack": ("musepack", "Musepack"),
    "dsf": ("dsf", "DSF"),
    "dsdiff": ("dsdiff", "DSDIFF"),
    "ac3": ("ac3", "AC3"),
    "optimfrog": ("optimfrog", "OptimFROG"),
    "tak": ("tak", "TAK"),
}
# what a name with several possible families claims to be
_CLAIM_LABELS = {".ogg": "Ogg audio", ".oga": "Ogg audio", ".aac": "AAC audio"}
# extensions of files that are not recordings -> why not
_REFUSED_EXTENSIONS = {
    ".id3": "“.id3” files hold only tags, not audio",
    ".apev2": "“.apev2” files hold only tags, not audio",
    ".mid": "MIDI files are notes for a synthesiser, not sound recordings",
    ".midi": "MIDI files are notes for a synthesiser, not sound recordings",
}
_VIDEO_EXTENSIONS = frozenset(
    {".webm", ".mkv", ".ogv", ".oggtheora", ".avi", ".mov", ".wmv", ".flv", ".m4v", ".mpg"}
)

# mutagen classes that read fine but are not sound recordings -> why not
_NOT_RECORDINGS = {
    "OggTheora": "it is a video (Ogg Theora), not an audio recording",
    "SMF": "it is a MIDI file (notes for a synthesiser), not a sound recording",
    "APEv2File": "it holds only an APEv2 tag and no audio",
    "ID3FileType": "it holds only an ID3 tag and no audio",
}
# mutagen module -> label, to say which format a damaged file was trying to be
_MODULE_LABEL = {
    "mp3": "MP3",
    "id3": "a file with an ID3 tag",
    "flac": "FLAC",
    "ogg": "Ogg",
    "oggvorbis": "Ogg Vorbis",
    "oggopus": "Opus",
    "oggflac": "Ogg FLAC",
    "oggspeex": "Speex",
    "oggtheora": "Ogg Theora",
    "mp4": "MPEG-4",
    "aac": "AAC",
    "aiff": "AIFF",
    "wave": "WAV",
    "asf": "Windows Media",
    "monkeysaudio": "Monkey's Audio",
    "wavpack": "WavPack",
    "trueaudio": "TrueAudio",
    "musepack": "Musepack",
    "dsf": "DSF",
    "dsdiff": "DSDIFF",
    "ac3": "AC-3",
    "optimfrog": "OptimFROG",
    "tak": "TAK",
    "apev2": "an APEv2 tag",
    "smf": "MIDI",
}

MAX_TAGS = 64
MAX_TAG_KEY = 64
MAX_TAG_VALUE = 2000
_FLAC_TAIL_SCAN = 2 * 1024 * 1024


def probe_audio(path: str | os.PathLike[str], filename: str) -> AudioInfo:
    """Identify ``path`` by its content and describe it, or raise ``UnsupportedMedia``.

    ``filename`` is what the uploader called the file: used in messages, and checked against
    the content (``x.flac`` holding MP3 is refused, as is any non-audio extension).
    """
    name = display_filename(filename)
    ext = extension_of(name)
    if ext is not None and ext not in ACCEPTED_EXTENSIONS:
        raise _refuse(
            name, _extension_reason(ext, path), prefix=f"{name} cannot be kept as a recording"
        )

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    with open(fd, "rb") as fileobj:  # its .name is the descriptor number: mutagen sees no name
        if not fileobj.read(1):
            raise _refuse(name, "it is empty (0 bytes)")
        try:
            audio = _load(fileobj, ACCEPTED_EXTENSIONS.get(ext or "", frozenset()), path)
        except Exception as exc:  # mutagen raises many types on hostile input
            raise _refuse(name, _damaged_reason(exc, path)) from None

    if audio is None:
        raise _refuse(name, describe_content(path) or "its content is not a known audio format")
    kind = type(audio).__name__
    if kind in _NOT_RECORDINGS:
        raise _refuse(name, _NOT_RECORDINGS[kind])
    family = _CLASS_FAMILY.get(kind)
    if family is None:
        raise _refuse(name, f"{kind} files are not supported")
    label = FAMILIES[family][0]

    if ext is not None and family not in ACCEPTED_EXTENSIONS[ext]:
        claimed = _CLAIM_LABELS.get(ext) or FAMILIES[min(ACCEPTED_EXTENSIONS[ext])][0]
        raise UnsupportedMedia(
            f"{name} claims {claimed} but its content is {label}. "
            f"Rename it to match its content, or upload the right file.",
            filename=name,
            reason=f"name claims {claimed}, content is {label}",
        )

    try:
        return _describe(audio, family, Path(path), name)
    except UnsupportedMedia:
        raise
    except Exception as exc:
        raise _refuse(name, _damaged_reason(exc, path)) from None


def _load(fileobj: Any, claimed: frozenset[str], path: str | os.PathLike[str]) -> Any:
    """mutagen.File on the content only; then bare MPEG streams, and formats with no magic
    bytes (Musepack SV4-6), which mutagen only recognises by name: for those the claimed
    format's own reader must accept the bytes, and known non-audio content never gets there.
    """
    fileobj.seek(0)
    audio = mutagen.File(fileobj)
    if audio is None:
        audio = _load_bare_mpeg(fileobj)
    if audio is None and claimed and describe_content(path) is None:
        for family in sorted(claimed):
            try:
                fileobj.seek(0)
                return _family_class(family)(fileobj)
            except Exception:
                continue
    return audio


def _family_class(family: str) -> Any:
    """The mutagen class that reads ``family``."""
    module, cls = _FAMILY_CLASS[family]
    return getattr(importlib.import_module(f"mutagen.{module}"), cls)


def _load_bare_mpeg(fileobj: Any) -> Any:
    """MPEG audio without an ID3 tag whose first frame mutagen's sniffer does not know
    (layer I/II, MPEG-2.5, ADTS AAC): mutagen only recognises those by file name."""
    fileobj.seek(0)
    head = fileobj.read(2)
    if len(head) < 2 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    fileobj.seek(0)
    if head[1] & 0xF6 == 0xF0:  # ADTS (AAC): 12-bit sync, layer bits 00
        from mutagen.aac import AAC

        return AAC(fileobj)
    from mutagen.mp3 import MP3

    return MP3(fileobj)


def _describe(audio: Any, family: str, path: Path, name: str) -> AudioInfo:
    info = audio.info
    length = getattr(info, "length", None)
    sample_rate = _positive_int(getattr(info, "sample_rate", None))
    channels = _positive_int(getattr(info, "channels", None))
    codec: str | None = None

    if family == "flac" and not length:
        length = _flac_length_from_frames(path, info)
    if family == "opus":
        sample_rate = _opus_input_rate(path)

    if length is not None and not math.isfinite(length):
        raise _refuse(name, "its duration cannot be read")
    if length is None or not (length > 0) or round(length * 1000) < 1:
        raise _refuse(
            name,
            f"it is {FAMILIES[family][0]} but holds no audio (its duration is 0 or unknown)",
            prefix=f"{name} cannot be kept as a recording",
        )

    if family == "mp3":
        layer = getattr(info, "layer", 3)
        codec = {1: "mp1", 2: "mp2"}.get(layer, "mp3")
    elif family == "wav":
        audio_format = getattr(info, "audio_format", None)
        codec = {1: "pcm", 3: "float", 0xFFFE: "extensible"}.get(
            audio_format, f"wave-format-0x{audio_format:04x}" if audio_format else None
        )
    elif family in ("m4a", "ac3"):
        codec = getattr(info, "codec", None) or None
    elif family == "aac":
        codec = "aac"
    elif family == "wma":
        codec = getattr(info, "codec_name", None) or None
    elif family in ("flac", "ogg-flac"):
        codec = "flac"
    elif family == "ogg-vorbis":
        codec = "vorbis"
    elif family in ("opus", "speex"):
        codec = family

    mime = FAMILIES[family][1]
    if codec == "ec-3":
        mime = "audio/eac3"
    return AudioInfo(
        format=family,
        mime=mime,
        codec=codec,
        duration_ms=round(length * 1000),
        sample_rate=sample_rate,
        channels=channels,
        bitrate=_positive_int(getattr(info, "bitrate", None)),
        tags=normalise_tags(audio.tags),
        browser_playable=_is_browser_playable(family, codec, info),
    )


def _is_browser_playable(family: str, codec: str | None, info: Any) -> bool:
    if family not in BROWSER_PLAYABLE:
        return False
    if family == "m4a":
        return bool(codec and codec.startswith("mp4a.40"))  # AAC, not ALAC or AC-3
    if family == "wav":
        return codec == "pcm"
    if family == "mp3":
        return codec == "mp3"
    if family == "aac":
        return getattr(info, "_type", "ADTS") == "ADTS"  # raw ADIF plays nowhere
    return True


def _positive_int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number > 0 else None


# -- tags -------------------------------------------------------------------------------

_CANONICAL = {
    "title": ("TIT2", "title", "©nam", "Title"),
    "artist": ("TPE1", "artist", "©ART", "Artist", "Author"),
    "album": ("TALB", "album", "©alb", "WM/AlbumTitle"),
    "date": ("TDRC", "TYER", "date", "year", "©day", "WM/Year"),
    "comment": ("COMM", "comment", "description", "©cmt", "Description"),
}
_KEY_TO_CANONICAL = {
    key.casefold(): canonical for canonical, keys in _CANONICAL.items() for key in keys
}
_SKIP_KEYS = frozenset(
    k.casefold()
    for k in ("APIC", "covr", "metadata_block_picture", "coverart", "WM/Picture", "PRIV", "GEOB")
)


def normalise_tags(tags: Any) -> dict[str, str]:
    """Embedded tags as short strings: title/artist/album/date/comment under those names
    (whatever the tag format calls them), others under their own key; pictures and binary
    data dropped; keys, values and count bounded."""
    result: dict[str, str] = {}
    if tags is None:
        return result
    try:
        items = list(tags.items())
    except Exception:
        return result
    for raw_key, raw_value in items:
        if len(result) >= MAX_TAGS:
            break
        key = _clean_text(str(raw_key))
        base = key.split(":", 1)[0]  # ID3 "COMM::eng", "TXXX:foo"
        if base.casefold() in _SKIP_KEYS or key.casefold() in _SKIP_KEYS:
            continue
        value = _tag_text(raw_value)
        if not value:
            continue
        canonical = _KEY_TO_CANONICAL.get(base.casefold()) or _KEY_TO_CANONICAL.get(key.casefold())
        target = canonical or key[:MAX_TAG_KEY]
        if target and target not in result:
            result[target] = value[:MAX_TAG_VALUE]
    return result


def _tag_text(value: Any) -> str:
    """A tag value as text, or "" for pictures and other binary data."""
    if isinstance(value, str):
        parts = [value]
    elif isinstance(value, (bytes, bytearray)):
        if type(value).__name__ == "MP4Cover":
            return ""
        parts = [bytes(value[: MAX_TAG_VALUE * 4]).decode("utf-8", "replace")]
    elif isinstance(value, (list, tuple)):
        parts = [_tag_text(v) for v in value[:32]]
    elif hasattr(value, "text") and not callable(value.text):  # ID3 text/comment frames
        parts = [str(v) for v in list(value.text)[:32]]
    elif hasattr(value, "url"):  # ID3 link frames
        parts = [str(value.url)]
    elif hasattr(value, "kind") and getattr(value, "kind", 1) == 0:  # APEv2 text value
        parts = list(value)
    elif type(value).__name__.startswith("ASF") and hasattr(value, "value"):
        inner = value.value
        parts = [_tag_text(inner)] if isinstance(inner, (str, int)) else []
    elif isinstance(value, (int, float, bool)):
        parts = [str(value)]
    else:
        return ""
    return _clean_text("; ".join(p for p in (_clean_text(str(p)) for p in parts) if p))


def _clean_text(text: str) -> str:
    text = text[: MAX_TAG_VALUE * 2]
    return "".join(ch for ch in text if ch in "\n\t" or (ch >= " " and ch != "\x7f")).strip()


# -- messages ---------------------------------------------------------------------------


def _extension_reason(ext: str, path: str | os.PathLike[str]) -> str:
    if ext in _REFUSED_EXTENSIONS:
        return _REFUSED_EXTENSIONS[ext]
    if ext in _VIDEO_EXTENSIONS:
        return f"“{ext}” is a video format; upload the audio as its own file (WAV, FLAC, MP3...)"
    reason = f"“{ext}” is not an audio file extension such as .wav, .flac, .mp3, .m4a or .ogg"
    seen = describe_content(path, damaged_audio=False)
    return f"{reason}; {seen}" if seen else reason


def _refuse(name: str, reason: str, *, prefix: str | None = None) -> UnsupportedMedia:
    head = prefix or f"{name} is not an audio file that this archive can read"
    return UnsupportedMedia(f"{head} ({reason}).", filename=name, reason=reason)


def _damaged_reason(exc: BaseException, path: str | os.PathLike[str]) -> str:
    if isinstance(exc, MemoryError):
        return "its header claims sizes that cannot be right"
    module = type(exc).__module__ or ""
    parts = module.split(".")
    label = None
    if parts and parts[0] == "mutagen" and len(parts) > 1:
        label = _MODULE_LABEL.get(parts[1].lstrip("_"))
    if label:
        return f"it looks like {label} but is damaged or incomplete"
    seen = describe_content(path)
    if seen:
        return seen
    return "it is damaged or incomplete"


# -- format details mutagen does not give ------------------------------------------------


def _opus_input_rate(path: Path) -> int | None:
    """The original sample rate recorded in the OpusHead packet (Opus always decodes at 48
    kHz; this is what the recording was made at). None when absent."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return None
    at = head.find(b"OpusHead")
    if at < 0 or len(head) < at + 16:
        return None
    (rate,) = struct.unpack_from("<I", head, at + 12)
    return rate or None


_FLAC_BLOCK_SIZES = {1: 192, 2: 576, 3: 1152, 4: 2304, 5: 4608}
_FLAC_BLOCK_SIZES.update({n: 256 << (n - 8) for n in range(8, 16)})


def _flac_length_from_frames(path: Path, info: Any) -> float | None:
    """Duration of a FLAC whose STREAMINFO says "total samples unknown" (0), as ffmpeg
    writes when encoding to a pipe: the last frame header says where that frame starts."""
    sample_rate = getattr(info, "sample_rate", 0)
    fixed_block = getattr(info, "max_blocksize", 0)
    if not sample_rate:
        return None
    max_frame = getattr(info, "max_framesize", 0) or 0
    window = min(_FLAC_TAIL_SCAN, max(64 * 1024, 2 * max_frame + 1024)) if max_frame else None
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - (window or _FLAC_TAIL_SCAN)))
            tail = f.read()
    except OSError:
        return None
    pos = len(tail)
    while (pos := tail.rfind(b"\xff", 0, pos)) >= 0:
        if pos + 1 < len(tail) and tail[pos + 1] in (0xF8, 0xF9):
            frame = _parse_flac_frame_header(tail, pos, sample_rate)
            if frame is not None:
                variable, number, block = frame
                if variable:
                    return (number + block) / sample_rate
                if fixed_block and block <= fixed_block:
                    return (number * fixed_block + block) / sample_rate
    return None


# (lead byte below, continuation bytes, value mask); extra -1 marks a continuation byte
_UTF8_LEADS = (
    (0x80, 0, 0x7F),
    (0xC0, -1, 0),
    (0xE0, 1, 0x1F),
    (0xF0, 2, 0x0F),
    (0xF8, 3, 0x07),
    (0xFC, 4, 0x03),
    (0xFE, 5, 0x01),
    (0xFF, 6, 0x00),
)
_FLAC_RATES = {
    1: 88200,
    2: 176400,
    3: 192000,
    4: 8000,
    5: 16000,
    6: 22050,
    7: 24000,
    8: 32000,
    9: 44100,
    10: 48000,
    11: 96000,
}


def _parse_flac_frame_header(
    buf: bytes, pos: int, sample_rate: int
) -> tuple[bool, int, int] | None:
    """(variable blocking, frame or sample number, block size) if a valid header is at pos."""
    end = len(buf)
    if pos + 5 > end:
        return None
    variable = buf[pos + 1] == 0xF9
    block_code, rate_code = buf[pos + 2] >> 4, buf[pos + 2] & 0x0F
    channel_code, size_code, reserved = buf[pos + 3] >> 4, (buf[pos + 3] >> 1) & 7, buf[pos + 3] & 1
    if block_code == 0 or rate_code == 15 or channel_code > 10 or size_code == 3 or reserved:
        return None
    if _FLAC_RATES.get(rate_code, sample_rate) != sample_rate:
        return None
    i = pos + 4
    first = buf[i]
    lead = next((entry for entry in _UTF8_LEADS if first < entry[0]), None)
    if lead is None:
        return None
    _, extra, mask = lead
    if extra < 0 or (extra == 6 and not variable):
        return None
    number = first & mask
    if i + 1 + extra > end:
        return None
    for b in buf[i + 1 : i + 1 + extra]:
        if b & 0xC0 != 0x80:
            return None
        number = (number << 6) | (b & 0x3F)
    i += 1 + extra
    if block_code == 6:
        if i + 1 > end:
            return None
        block = buf[i] + 1
        i += 1
    elif block_code == 7:
        if i + 2 > end:
            return None
        block = int.from_bytes(buf[i : i + 2], "big") + 1
        i += 2
    else:
        block = _FLAC_BLOCK_SIZES[block_code]
    if rate_code == 12:
        i += 1
    elif rate_code in (13, 14):
        i += 2
    if i >= end or _crc8(buf[pos:i]) != buf[i]:
        return None
    return variable, number, block


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc
