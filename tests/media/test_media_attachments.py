"""probe_attachment and extract_pdf_text: PDFs and images by content, refusals that name
the file, text extraction that is bounded and never raises on odd PDFs."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from pypdf import PdfWriter

from oralhist.errors import UnsupportedMedia
from oralhist.media.attachments import AttachmentInfo, extract_pdf_text, probe_attachment

TESTDATA = Path(__file__).resolve().parents[2].parent / "shared" / "testdata"


def blank_pdf(pages: int = 3, *, password: str | None = None) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    if password:
        writer.encrypt(password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with a real text layer, written by hand (pypdf cannot add text)."""
    text_ops = " ".join(f"({line}) Tj 0 -14 Td" for line in lines)
    stream = f"BT /F1 12 Tf 72 720 Td {text_ops} ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes(width * 3) for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


GIF = b"GIF89a" + struct.pack("<HH", 40, 30) + b"\x00\x00\x00" + b"\x3b"
WEBP = b"RIFF" + struct.pack("<I", 22) + b"WEBPVP8X" + struct.pack("<I", 10) + bytes(4)
WEBP += (640 - 1).to_bytes(3, "little") + (480 - 1).to_bytes(3, "little")
TIFF = b"II*\x00" + struct.pack("<I", 8) + bytes(32)


def write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "upload.part"  # the stored name tells nothing
    path.write_bytes(content)
    return path


def refused(path: Path, filename: str) -> UnsupportedMedia:
    with pytest.raises(UnsupportedMedia) as caught:
        probe_attachment(path, filename)
    assert caught.value.details["filename"] in caught.value.message
    return caught.value


def test_pdf_pages_are_counted(tmp_path: Path) -> None:
    info = probe_attachment(write(tmp_path, blank_pdf(3)), "pamphlet 1957.pdf")
    assert info == AttachmentInfo("pdf", "application/pdf", 3, None, None)


def test_pdf_without_a_name(tmp_path: Path) -> None:
    assert probe_attachment(write(tmp_path, blank_pdf(1)), "pamphlet").pages == 1


def test_pdf_with_junk_before_the_header(tmp_path: Path) -> None:
    assert probe_attachment(write(tmp_path, b"\r\n\r\n" + blank_pdf(2)), "a.pdf").pages == 2


@pytest.mark.parametrize(
    ("content", "mime", "size"),
    [
        (png(3, 2), "image/png", (3, 2)),
        (GIF, "image/gif", (40, 30)),
        (WEBP, "image/webp", (640, 480)),
        (TIFF, "image/tiff", (None, None)),
    ],
)
def test_images(tmp_path: Path, content: bytes, mime: str, size: tuple) -> None:
    info = probe_attachment(write(tmp_path, content), "letter")
    assert (info.kind, info.mime, info.pages, (info.width, info.height)) == (
        "image",
        mime,
        None,
        size,
    )


def test_real_jpeg(tmp_path: Path) -> None:
    path = TESTDATA / "mutagen" / "data" / "image.jpg"
    if not path.is_file():
        pytest.skip("third-party test files absent")
    info = probe_attachment(path, "Letter from André.jpg")
    assert (info.mime, info.width, info.height) == ("image/jpeg", 15, 15)


def test_jpeg_frame_header_after_a_large_exif_block(tmp_path: Path) -> None:
    exif = b"\xff\xe1" + struct.pack(">H", 65000) + bytes(64998)
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 1200, 1600, 1) + b"\x01\x11\x00"
    content = b"\xff\xd8" + exif + exif + sof + b"\xff\xd9"
    info = probe_attachment(write(tmp_path, content), "scan.jpeg")
    assert (info.width, info.height) == (1600, 1200)


def test_png_named_jpg_is_accepted(tmp_path: Path) -> None:
    assert probe_attachment(write(tmp_path, png(2, 2)), "scan.jpg").mime == "image/png"


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (blank_pdf(1), "scan.jpg", "claims to be an image but its content is a PDF"),
        (png(2, 2), "pamphlet.pdf", "claims to be a PDF but its content is an image"),
        (blank_pdf(1), "pamphlet.pdf.php", "“.php” is not a PDF or image extension"),
        (b"", "empty.pdf", "empty"),
        (b"<?php echo 1; ?>", "letter.pdf", "PHP script"),
        (b"Dear Sir,\nthank you for your letter.\n", "letter", "text file"),
        (b"ID3\x04\x00" + bytes(100), "tape", "not a PDF or an image"),
        (b"%PDF-1.7\n" + bytes(range(256)) * 4, "broken.pdf", "damaged"),
        (blank_pdf(1)[:200], "truncated.pdf", "PDF"),
        (blank_pdf(1, password="secret"), "locked.pdf", "password-protected"),
        (b"\x89PNG\r\n\x1a\n", "cut.png", "damaged"),
        (b"\xff\xd8\xff", "cut.jpg", "damaged"),
    ],
)
def test_refusals_name_the_file(tmp_path: Path, content: bytes, name: str, reason: str) -> None:
    assert reason in refused(write(tmp_path, content), name).message


def test_path_parts_never_reach_the_message(tmp_path: Path) -> None:
    error = refused(write(tmp_path, b"MZ" + bytes(64)), "..\\..\\boot.ini.pdf")
    assert error.details["filename"] == "boot.ini.pdf"
    assert ".." not in error.message


def test_extract_text(tmp_path: Path) -> None:
    path = write(tmp_path, text_pdf(["Hello archive", "Pamphlet, 1957"]))
    assert probe_attachment(path, "p.pdf").pages == 1
    text = extract_pdf_text(path)
    assert "Hello archive" in text and "Pamphlet, 1957" in text


def test_extract_text_is_bounded(tmp_path: Path) -> None:
    path = write(tmp_path, text_pdf(["word " * 50] * 20))
    assert len(extract_pdf_text(path, max_chars=100)) == 100


def test_pdf_without_a_text_layer_gives_empty_text(tmp_path: Path) -> None:
    assert extract_pdf_text(write(tmp_path, blank_pdf(2))) == ""


def test_extract_text_from_a_non_pdf_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMedia) as caught:
        extract_pdf_text(write(tmp_path, png(1, 1)), filename="scan.png")
    assert "scan.png" in caught.value.message
