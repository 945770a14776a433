"""Document attachments: a PDF or an image attached to a Document record.

``probe_attachment`` identifies the file from its first bytes (never its name or the
Content-Type the browser sent), opens PDFs with pypdf to count pages and reads image sizes
from their headers. ``extract_pdf_text`` gives the text layer for search. This is the one
module that imports pypdf; callers only ever see ``UnsupportedMedia``.
"""

from __future__ import annotations

import logging
import os
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import UnsupportedMedia
from .sniff import describe_content, extension_of, read_head
from .storage import display_filename


@dataclass(frozen=True)
class AttachmentInfo:
    kind: str  # "pdf" | "image"
    mime: str
    pages: int | None
    width: int | None
    height: int | None


PDF_EXTENSIONS = frozenset({".pdf"})
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".jpe", ".gif", ".webp", ".tif", ".tiff"})
ACCEPTED_EXTENSIONS = PDF_EXTENSIONS | IMAGE_EXTENSIONS
_HEAD_BYTES = 64 * 1024
_PDF_MAGIC_WITHIN = 1024  # readers accept junk before "%PDF-"; so do we, a little

_log = logging.getLogger(__name__)


def probe_attachment(path: str | os.PathLike[str], filename: str) -> AttachmentInfo:
    """Describe a PDF or image, or raise ``UnsupportedMedia`` naming the file.

    A name with an extension must agree with the content's kind (a PDF named ``.jpg`` is
    refused); a PNG named ``.jpg`` is accepted, as browsers and viewers do.
    """
    name = display_filename(filename)
    ext = extension_of(name)
    if ext is not None and ext not in ACCEPTED_EXTENSIONS:
        raise _refuse(name, f"“{ext}” is not a PDF or image extension")
    head = read_head(path, _HEAD_BYTES)
    if not head:
        raise _refuse(name, "it is empty (0 bytes)")

    if b"%PDF-" in head[:_PDF_MAGIC_WITHIN]:
        info = AttachmentInfo("pdf", "application/pdf", _count_pdf_pages(path, name), None, None)
    else:
        image = _identify_image(head)
        if image is None:
            raise _refuse(
                name,
                describe_content(path, damaged_audio=False)
                or "its content is not a PDF or an image",
            )
        mime, size = image
        if mime == "image/jpeg":
            with open(path, "rb") as fileobj:
                size = _jpeg_size(fileobj)
        if size is None and mime in ("image/png", "image/gif", "image/jpeg"):
            raise _refuse(name, f"it looks like {mime.split('/')[1].upper()} but is damaged")
        width, height = size or (None, None)
        info = AttachmentInfo("image", mime, None, width, height)

    if ext is not None:
        expected = "pdf" if ext in PDF_EXTENSIONS else "image"
        if expected != info.kind:
            claimed = "a PDF" if expected == "pdf" else "an image"
            actual = "a PDF" if info.kind == "pdf" else "an image"
            raise UnsupportedMedia(
                f"{name} claims to be {claimed} but its content is {actual}.",
                filename=name,
                reason=f"name claims {claimed}, content is {actual}",
            )
    return info


def extract_pdf_text(
    path: str | os.PathLike[str], *, max_chars: int = 2_000_000, filename: str | None = None
) -> str:
    """The PDF's text layer, at most ``max_chars`` characters; "" when it has none (a scan).

    A page whose text cannot be extracted is skipped; a file pypdf cannot open at all raises
    ``UnsupportedMedia``.
    """
    name = display_filename(filename or Path(path).name)
    parts: list[str] = []
    total = 0
    with _open_pdf(path, name) as reader, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pages = list(reader.pages)
        except Exception as exc:
            raise _refuse(name, "its page tree is damaged") from exc
        for number, page in enumerate(pages, start=1):
            if total >= max_chars:
                break
            try:
                text = page.extract_text() or ""
            except Exception:  # pypdf raises many types on odd content streams
                _log.info("No text from page %d of %s", number, name, exc_info=True)
                continue
            text = text.replace("\x00", "")
            parts.append(text)
            total += len(text) + 1
    result = "\n".join(parts)[:max_chars]
    return result if result.strip() else ""


@contextmanager
def _open_pdf(path: str | os.PathLike[str], name: str) -> Iterator[Any]:
    """A pypdf reader over the open file (given a path, pypdf would read it all into memory)."""
    from pypdf import PdfReader

    with open(path, "rb") as fileobj, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            reader = PdfReader(fileobj, strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise _refuse(name, "it is password-protected; upload an unprotected copy")
        except UnsupportedMedia:
            raise
        except Exception as exc:
            raise _refuse(name, "it looks like a PDF but is damaged and cannot be opened") from exc
        yield reader


def _count_pdf_pages(path: str | os.PathLike[str], name: str) -> int:
    with _open_pdf(path, name) as reader:
        try:
            pages = len(reader.pages)
        except Exception as exc:
            raise _refuse(name, "it looks like a PDF but its pages cannot be read") from exc
    if pages < 1:
        raise _refuse(name, "it is a PDF with no pages")
    return pages


def _refuse(name: str, reason: str) -> UnsupportedMedia:
    return UnsupportedMedia(
        f"{name} is not a PDF or image that this archive can keep ({reason}).",
        filename=name,
        reason=reason,
    )


# -- images: type from magic bytes, size from the header (no Pillow) ---------------------


def _identify_image(head: bytes) -> tuple[str, tuple[int, int] | None] | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", _png_size(head)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", None  # read from the file: the frame header may be far in
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif", _gif_size(head)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp", _webp_size(head)
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff", None
    return None


def _sane(width: int, height: int) -> tuple[int, int] | None:
    return (width, height) if width > 0 and height > 0 else None


def _png_size(head: bytes) -> tuple[int, int] | None:
    if len(head) < 24 or head[12:16] != b"IHDR":
        return None
    return _sane(*struct.unpack(">II", head[16:24]))


def _gif_size(head: bytes) -> tuple[int, int] | None:
    if len(head) < 10:
        return None
    return _sane(*struct.unpack("<HH", head[6:10]))


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8X" and len(head) >= 30:
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return _sane(width, height)
    if chunk == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return _sane((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8 " and len(head) >= 30 and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return _sane(width & 0x3FFF, height & 0x3FFF)
    return None


_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(fileobj: BinaryIO, max_segments: int = 4096) -> tuple[int, int] | None:
    """Walk the marker segments to the first start-of-frame, seeking past their data."""
    fileobj.seek(2)
    for _ in range(max_segments):
        byte = fileobj.read(1)
        if byte != b"\xff":
            return None
        marker = fileobj.read(1)
        while marker == b"\xff":  # fill bytes
            marker = fileobj.read(1)
        if not marker:
            return None
        code = marker[0]
        if code == 0x01 or 0xD0 <= code <= 0xD7:  # segments without a length
            continue
        header = fileobj.read(2)
        if len(header) < 2:
            return None
        (length,) = struct.unpack(">H", header)
        if code in _JPEG_SOF:
            frame = fileobj.read(5)
            if len(frame) < 5:
                return None
            height, width = struct.unpack(">HH", frame[1:5])
            return _sane(width, height)
        if length < 2 or code == 0xDA:  # start of scan before any frame header: broken
            return None
        fileobj.seek(length - 2, os.SEEK_CUR)
    return None
