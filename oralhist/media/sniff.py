"""Small content and name checks shared by the audio probe and the attachment probe.

``describe_content`` says what a refused file looks like ("a JPEG image", "a PHP script"),
from its first bytes only, so that the refusal tells the depositor what they actually sent.
"""

from __future__ import annotations

import os
import re

_SNIFF_BYTES = 4096
_EXTENSION_RE = re.compile(r"\.[A-Za-z0-9+]{1,10}")

# (prefix, description), checked in order against the file's first bytes
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"BM", "a BMP image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or an Office document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Microsoft Office document"),
    (b"{\\rtf", "an RTF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"\xca\xfe\xba\xbe", "a compiled program"),
    (b"<?php", "a PHP script"),
    (b"#!", "a script"),
    (b"MThd", "a MIDI file (notes for a synthesiser, not a sound recording)"),
    (b"<?xml", "an XML document"),
    (b"FLV", "a Flash video"),
)
_DAMAGED_AUDIO_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"ID3", "an ID3 tag without readable audio after it"),
    (b"APETAGEX", "an APEv2 tag without audio"),
    (b"OggS", "an Ogg file whose streams are not audio this archive can read"),
    (b"fLaC", "a FLAC file whose header is damaged"),
)
_WAV_DAMAGED = "a WAV file whose header is damaged"
_DAMAGED_AUDIO = frozenset({d for _, d in _DAMAGED_AUDIO_MAGIC} | {_WAV_DAMAGED})


def extension_of(name: str) -> str | None:
    """The lower-case extension with its dot (".mp3"), or None when the name has none.

    Only a short run of letters and digits counts ("tape 1.2" and "Smith, J. interview" have
    no extension), so a name's dots do not get mistaken for a claim about its format.
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    _, dot, ext = base.rpartition(".")
    if not dot or not ext:
        return None
    candidate = "." + ext
    if not _EXTENSION_RE.fullmatch(candidate) or not any(c.isalpha() for c in ext):
        return None
    return candidate.lower()


def read_head(path: str | os.PathLike[str], size: int = _SNIFF_BYTES) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except OSError:
        return b""


def describe_content(path: str | os.PathLike[str], *, damaged_audio: bool = True) -> str | None:
    """A short "it looks like ..." phrase for a file that is not accepted, or None.

    With ``damaged_audio=False``, starts of audio formats ("ID3", "OggS"...) are not
    described: the caller refuses the file for another reason than its content.
    """
    head = read_head(path)
    if not head:
        return "it is empty (0 bytes)"
    looks = _what_it_looks_like(head)
    if looks and not damaged_audio and looks in _DAMAGED_AUDIO:
        return None
    return f"it looks like {looks}" if looks else None


def _what_it_looks_like(head: bytes) -> str | None:
    if head.startswith(b"RIFF") and len(head) >= 12:
        form = head[8:12]
        if form == b"WEBP":
            return "a WebP image"
        if form.startswith(b"AVI"):
            return "an AVI video"
        if form == b"WAVE":
            return _WAV_DAMAGED
        return "a RIFF file that is not audio"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "a WebM video" if b"webm" in head[:64] else "a Matroska video"
    if head[4:8] == b"ftyp":
        return "an MPEG-4 file with no audio track this archive can read"
    if head[4:8] in (b"moov", b"mdat", b"free", b"wide"):
        return "an MPEG-4 file with no audio track this archive can read"
    for prefix, description in _MAGIC + _DAMAGED_AUDIO_MAGIC:
        if head.startswith(prefix):
            return description
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    if stripped.startswith(b"<?php") or b"<?php" in head[:1024]:
        return "a PHP script"
    if _is_text(head):
        return "a text file"
    return None


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    text = None
    for cut in range(4):  # a multi-byte character cut off by the sniff is still text
        try:
            text = head[: len(head) - cut].decode("utf-8")
            break
        except UnicodeDecodeError:
            continue
    if not text:
        return False
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\r\n\t")
    return printable / len(text) > 0.95
