"""The streamed multipart reader against Werkzeug's decoder: same fields, same file bytes,
however the body is cut into reads, and whatever the file contains."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from werkzeug.sansio.multipart import NEED_DATA, Data, Epilogue, Field, File, MultipartDecoder

from oralhist.errors import ValidationError
from oralhist.web.streamed_upload import DelimiterScanner, StreamedForm, UploadCutOff

BOUNDARY = b"BoUnDaRy42"


def body(content: bytes, before=(("csrf_token", "tok"),), after=(("label", "Tape 1"),)) -> bytes:
    out = b""
    for name, value in before:
        out += b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (
            BOUNDARY,
            name.encode(),
            value.encode(),
        )
    out += (
        b'--%s\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
        b"Content-Type: audio/wav\r\n\r\n" % BOUNDARY
    )
    out += content
    for name, value in after:
        out += b'\r\n--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s' % (
            BOUNDARY,
            name.encode(),
            value.encode(),
        )
    return out + b"\r\n--%s--\r\n" % BOUNDARY


class Chunks:
    """An input stream that returns the body in reads of the given sizes (cycled)."""

    def __init__(self, data: bytes, sizes=(1 << 20,)) -> None:
        self.data, self.sizes, self.at, self.turn = data, list(sizes), 0, 0

    def read(self, size: int) -> bytes:
        n = min(size, self.sizes[self.turn % len(self.sizes)])
        self.turn += 1
        out = self.data[self.at : self.at + n]
        self.at += len(out)
        return out


def streamed(data: bytes, sizes=(1 << 20,), read_size: int = 1 << 20):
    """(fields, file bytes, pieces) as the upload views read them."""
    form = StreamedForm(Chunks(data, sizes), BOUNDARY)
    assert form.read_fields() is True
    stream, pieces = form.file, []
    while piece := stream.read(read_size):
        assert len(piece) <= read_size
        pieces.append(piece)
    form.finish()
    return dict(form.fields.items(multi=True)), b"".join(pieces), pieces


def werkzeug(data: bytes):
    """(fields, file bytes) as Werkzeug's decoder reads the whole body at once."""
    decoder = MultipartDecoder(BOUNDARY)
    decoder.receive_data(data)
    decoder.receive_data(None)
    fields, files, name, value = {}, [], None, b""
    while not isinstance(event := decoder.next_event(), Epilogue):
        assert event is not NEED_DATA
        if isinstance(event, Field | File):
            name, value = event.name, b""
        elif isinstance(event, Data):
            value += event.data
            if not event.more_data:
                if name == "file":
                    files.append(value)
                else:
                    fields[name] = value.decode()
    assert len(files) == 1
    return fields, files[0]


TRICKY = [
    b"\r\n--" + BOUNDARY + b"X",  # the boundary as the start of a longer word: data
    b"\r\n--" + BOUNDARY[:5],
    b"\r\n--",
    b"\r\n",
    b"\r",
    b"\n",
    b"-",
    b" ",
    BOUNDARY,
    b"--" + BOUNDARY + b"--",  # no CRLF before it: data
    b"RIFF\x00\xff",
]


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(st.sampled_from(TRICKY) | st.binary(max_size=40), max_size=30),
    sizes=st.lists(st.integers(1, 97), min_size=1, max_size=6),
    read_size=st.integers(1, 200),
)
def test_same_result_as_werkzeug_however_the_body_is_cut(parts, sizes, read_size):
    content = b"".join(parts)
    data = body(content)
    try:
        fields, file_bytes = werkzeug(data)
    except ValueError:  # a real delimiter in the content, then no valid part headers
        assume(False)
    assume(file_bytes == content)  # skip contents that hold a real delimiter
    ours = streamed(data, sizes, read_size)
    assert ours[:2] == (fields, content)


@pytest.mark.parametrize("tail", [b"", b"\r", b"\r\n-", b"\r\n--" + BOUNDARY[:-1], b"x\r\n--Bo"])
def test_delimiter_split_at_every_byte(tail):
    content = b"first\r\nsecond\r\n--" + BOUNDARY + b"Xthird" + tail
    data = body(content)
    for cut in range(1, len(data)):
        fields, file_bytes, _ = streamed(data, (cut, len(data)))
        assert file_bytes == content, cut
        assert fields == {"csrf_token": "tok", "label": "Tape 1"}


def test_transport_padding_after_the_delimiter_ends_the_part():
    data = body(b"abc").replace(
        b'\r\n--%s\r\nContent-Disposition: form-data; name="label"' % BOUNDARY,
        b'\r\n--%s \t \r\nContent-Disposition: form-data; name="label"' % BOUNDARY,
    )
    assert streamed(data, (7,))[:2] == ({"csrf_token": "tok", "label": "Tape 1"}, b"abc")


def test_file_pieces_are_views_of_what_was_received_not_copies():
    content = bytes(range(256)) * 4096
    _, file_bytes, pieces = streamed(body(content), (65536,))
    assert file_bytes == content
    assert all(isinstance(piece, memoryview) for piece in pieces)


def test_empty_file_and_no_fields():
    fields, file_bytes, _ = streamed(body(b"", before=(), after=()), (3,))
    assert (fields, file_bytes) == ({}, b"")


@pytest.mark.parametrize(
    "data",
    [
        body(b"x" * 5000)[:2000],  # ends mid-file
        body(b"x" * 50, after=())[: -len(b"--\r\n")],  # ends right after the delimiter
    ],
    ids=["mid-file", "after-delimiter"],
)
def test_a_body_without_the_file_closing_delimiter_is_cut_off(data):
    with pytest.raises(UploadCutOff, match="cut off"):
        streamed(data, (100,))


def test_bare_line_feed_delimiters_are_refused_saying_so():
    data = body(b"x" * 50).replace(b"\r\n--" + BOUNDARY, b"\n--" + BOUNDARY)
    for sizes in ((7,), (13,), (100,), (1 << 20,)):
        with pytest.raises(ValidationError, match="bare line feed before its --boundary"):
            streamed(data, sizes)


def test_a_second_file_is_refused():
    data = body(b"abc").replace(b'name="label"', b'name="file2"; filename="b.wav"')
    with pytest.raises(ValidationError, match="one file per upload"):
        streamed(data)


def test_scanner_holds_back_only_a_possible_delimiter_start():
    scanner = DelimiterScanner(BOUNDARY)
    assert bytes(scanner.feed(b"abc\r")) == b"abc"  # "\r" may begin the delimiter
    assert bytes(scanner.feed(b"x\r\n--Bo")) == b"\rx"
    assert bytes(scanner.feed(b"UnDaRy42--\r\n")) == b""
    assert scanner.rest == b"\r\n--" + BOUNDARY + b"--\r\n"
    assert re.fullmatch(rb"\r\n--BoUnDaRy42", scanner.delimiter)


def test_an_epilogue_is_read_and_dropped():
    data = body(b"abc") + b"x" * (5 << 20)  # after the closing boundary
    form = StreamedForm(Chunks(data, (1 << 20,)), BOUNDARY)
    assert form.read_fields() is True
    assert bytes(form.file.read()) == b"abc"
    form.finish()
    assert form.fields["label"] == "Tape 1"
    assert len(form._decoder.buffer) < 1 << 20


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"junk" * (400 << 10) + body(b"abc"), "no part begins within"),
        (body(b"abc", before=[("f", "v")] * 25), "more than 20 parts"),
        (body(b"abc", before=[("note", "n" * 70_000)]), "text fields are too long"),
        (body(b"abc").replace(b"Content-Disposition", b"Content-Dispositio", 1), "not valid"),
    ],
    ids=["long-preamble", "too-many-parts", "long-field", "no-disposition"],
)
def test_hostile_bodies_are_refused_with_a_message(data, message):
    with pytest.raises(ValidationError, match=message):
        streamed(data)
