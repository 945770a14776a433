"""Multipart uploads read as they arrive, so a 1.7 GB WAV never sits in memory or in a
second temporary copy.

Why not ``request.files``: Werkzeug's form parser spools a large part to an anonymous temp
file first; the service would then copy it into storage (twice the disk I/O), and the whole
body would be received before the view could even check who is uploading. Instead:

1. A URL-value preprocessor (it runs before every ``before_request`` hook, including the
   CSRF check) calls :func:`begin` for the upload endpoints. It parses the body with
   ``werkzeug.sansio.multipart.MultipartDecoder`` only up to the first *file* part, and sets
   ``request.form`` to the small fields read so far (the CSRF token, a label) and
   ``request.files`` to nothing. The CSRF check then finds its token without touching the file.
2. The view checks access, then hands :attr:`StreamedForm.file` (a read-only stream of that
   part's bytes) to ``Storage.save_stream``, which writes it straight into storage's temp
   file while hashing. Memory use is one read chunk plus the decoder's small look-behind.
3. If the body ends before the multipart's closing boundary (a cut-off upload) the file
   stream raises :class:`UploadCutOff`, so ``save_stream`` removes its temp file and nothing is
   left. Fields sent after the file (an API client's ``label``) are read by :meth:`finish`.

Speed (``bench/bench_upload.py``): Werkzeug's decoder copies every byte of a part several times
(into its buffer, out of it, and again for each partial-boundary check), which made it the
largest cost of a 1 GiB upload after hashing and writing. So the decoder only reads the part
headers; each part's body (a field's value, the file's bytes) is split from the delimiter that
ends it by :class:`DelimiterScanner`: one ``bytes.find`` per read, and the file's bytes go on
to storage as memoryviews of what was received, uncopied. Whatever follows the delimiter goes
to a fresh decoder. The scanner takes the delimiter RFC 2046 defines, CRLF ``--boundary``;
every browser and HTTP library sends that (Werkzeug's decoder also takes a bare CR or LF). A
body of known length is read straight from ``wsgi.input`` (at most ``Content-Length`` bytes,
as Werkzeug's ``LimitedStream`` would, without its two copies per read); a chunked body goes
through ``request.stream``, which enforces ``MAX_CONTENT_LENGTH`` as it arrives. Memory stays
bounded on hostile input too: the decoder holds at most one read plus the fields' limit, and
an epilogue after the closing boundary is read and dropped.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, g, request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.sansio.multipart import (
    NEED_DATA,
    Epilogue,
    Field,
    File,
    MultipartDecoder,
    State,
)

from ..errors import TooLarge, ValidationError

READ_CHUNK = 1024 * 1024
#: The small text fields (CSRF token, label) together: anything bigger is not our form.
MAX_FIELD_BYTES = 64 * 1024
MAX_PARTS = 20
#: The most the headers' decoder may hold: one read, and the fields (its limit is per read).
_DECODER_BUFFER = READ_CHUNK + MAX_FIELD_BYTES
#: What ends a part's headers and starts its body (Werkzeug's decoder leaves it in place).
_LEADING_LINE_BREAK = re.compile(rb"\r\n|\n|\r")

CUT_OFF = (
    "The upload was cut off before it was complete (the body ended before its closing "
    "boundary); nothing was kept. Please try again."
)


class UploadCutOff(ValidationError):
    """The request body ended before the upload was complete."""


class DelimiterScanner:
    """Splits a multipart part's body from the delimiter that ends it.

    Feed it the part's bytes as they arrive; :meth:`feed` returns the bytes that are surely
    the part's (a memoryview of the chunk, not a copy), holding back only a tail that could be
    the start of the delimiter. The delimiter is CRLF ``--boundary`` followed by ``--`` (the
    last part) or by optional blanks and a line break (RFC 2046 section 5.1.1, as Werkzeug's
    decoder reads it); ``--boundary`` followed by anything else is the part's data. Once the
    delimiter is found, :attr:`rest` is everything from it on (for a fresh decoder).
    """

    #: Blanks allowed between a delimiter and its line break ("transport padding").
    MAX_PADDING = 1024

    def __init__(self, boundary: bytes) -> None:
        self.delimiter = b"\r\n--" + boundary
        self._held = b""
        self._last = self._before_last = b""  # for ``bare_line_feeds``
        self.rest: bytes | None = None

    def feed(self, chunk: bytes) -> memoryview:
        if self._held:
            chunk = self._held + chunk  # rare: only when the last chunk ended in "\r..."
            self._held = b""
        # what came before the last chunk, in case a bare LF delimiter straddles them
        keep, last = len(self.delimiter) + 8, self._last
        before = last if len(last) >= keep else self._before_last + last
        self._before_last, self._last = before[-keep:], chunk
        at = chunk.find(self.delimiter)
        while at != -1:
            ends = self._ends_part(chunk, at + len(self.delimiter))
            if ends is None:  # the chunk stops before it can tell: wait for more
                self._held = chunk[at:]
                return memoryview(chunk)[:at]
            if ends:
                self.rest = chunk[at:]
                return memoryview(chunk)[:at]
            at = chunk.find(self.delimiter, at + 1)
        cut = self._partial_start(chunk)
        self._held = chunk[cut:]
        return memoryview(chunk)[:cut]

    def bare_line_feeds(self) -> bool:
        """Whether the last chunk holds LF ``--boundary`` without the CR before it (asked when
        the body ended without the delimiter: a client that breaks lines with LF alone)."""
        bare, recent = self.delimiter[1:], self._before_last + self._last
        at = recent.find(bare)
        while at != -1:
            if at == 0 or recent[at - 1] != 13:  # 13: CR
                return True
            at = recent.find(bare, at + 1)
        return False

    def _ends_part(self, chunk: bytes, end: int) -> bool | None:
        """Whether the delimiter ending at ``end`` ends the part (None: can't tell yet)."""
        after = chunk[end : end + self.MAX_PADDING + 2]
        if after[:2] == b"--":
            return True
        blanks = after.lstrip(b" \t")
        if len(after) - len(blanks) > self.MAX_PADDING:
            return False
        if not blanks or after == b"-" or blanks == b"\r":  # "\r" may yet become "\r\n"
            return None
        return blanks[:1] in (b"\r", b"\n")

    def _partial_start(self, chunk: bytes) -> int:
        """Where a tail of ``chunk`` that could begin the delimiter starts (else its length)."""
        delimiter = self.delimiter
        at = chunk.find(b"\r", max(0, len(chunk) - len(delimiter) + 1))
        while at != -1:
            if delimiter.startswith(chunk[at:]):
                return at
            at = chunk.find(b"\r", at + 1)
        return len(chunk)


class StreamedForm:
    """One multipart/form-data body, parsed incrementally from ``stream``.

    Werkzeug's decoder reads the part headers; every part's body (a field's value or the
    file's bytes) is read by a :class:`DelimiterScanner`, and what follows it goes to a fresh
    decoder. (Werkzeug 3.1's incremental decoder can also keep a stray CR at the end of a value
    when a read ends inside the closing delimiter; the scanner cannot.)
    """

    def __init__(self, stream: Any, boundary: bytes) -> None:
        self._stream = stream
        self._boundary = boundary
        self._decoder = self._new_decoder()
        self._ended = False  # the input stream is exhausted
        self.fields: MultiDict[str, str] = MultiDict()
        self._field_bytes = 0
        self._parts = 0
        #: the file part reached by :meth:`read_fields`: (field name, filename, content type)
        self.file_name: str | None = None
        self.filename: str | None = None
        self.content_type: str | None = None
        self._scanner: DelimiterScanner | None = None  # while in a part's body
        self._first: bytes | None = None  # the part's bytes the decoder had buffered
        self._complete = False

    # -- input and the headers' decoder ---------------------------------------------------

    def _read_input(self) -> bytes:
        try:
            return self._stream.read(READ_CHUNK)
        except RequestEntityTooLarge:
            raise _too_large() from None
        except (OSError, ValueError, ClientDisconnected) as exc:  # the client went away
            raise UploadCutOff(CUT_OFF) from exc

    def _new_decoder(self) -> MultipartDecoder:
        return MultipartDecoder(self._boundary, max_form_memory_size=_DECODER_BUFFER)

    def _next_event(self):
        while True:
            try:
                event = self._decoder.next_event()
            except (ValueError, UnicodeDecodeError) as exc:
                if self._ended:
                    raise UploadCutOff(CUT_OFF) from None
                raise ValidationError(
                    f"The upload is not valid multipart/form-data ({exc})."
                ) from None
            if event is not NEED_DATA:
                return event
            if self._ended:
                raise UploadCutOff(CUT_OFF)
            chunk = self._read_input()
            if chunk and self._decoder.state is State.EPILOGUE:
                continue  # after the closing boundary: read to the end, keep nothing
            if chunk:
                try:
                    self._decoder.receive_data(chunk)
                except RequestEntityTooLarge:
                    raise ValidationError(
                        "The upload is not valid multipart/form-data: no part begins within "
                        f"{_DECODER_BUFFER} bytes."
                    ) from None
            else:
                self._ended = True
                self._decoder.receive_data(None)

    # -- fields ----------------------------------------------------------------------------

    def read_fields(self) -> bool:
        """Read plain fields up to the first file part (True) or to the end (False)."""
        while True:
            event = self._next_event()
            if isinstance(event, Field | File):
                self._parts += 1
                if self._parts > MAX_PARTS:
                    raise ValidationError(f"The upload has more than {MAX_PARTS} parts.")
                self._enter_body()
                if isinstance(event, File):
                    self.file_name = event.name
                    self.filename = event.filename
                    self.content_type = event.headers.get("content-type")
                    return True
                value = bytearray()
                while (data := self._body_data()) is not None:
                    self._field_bytes += len(data)
                    if self._field_bytes > MAX_FIELD_BYTES:
                        raise ValidationError("The form's text fields are too long.")
                    value += data
                self.fields.add(event.name, value.decode("utf-8", "replace"))
            elif isinstance(event, Epilogue):
                self._complete = True
                return False
            # a Preamble (text before the first boundary) is ignored

    def finish(self) -> None:
        """Read what follows the file: more plain fields (a second file part is refused)."""
        if self.next_file():
            raise ValidationError("Send one file per upload.")

    def next_file(self) -> bool:
        """Skip to the next file part (True), or read the fields up to the end (False)."""
        if self._complete:
            return False
        if self._scanner is not None:
            self.file.read_to_end()
        return self.read_fields()

    # -- a part's body ---------------------------------------------------------------------

    def _enter_body(self) -> None:
        """Take the part's body over from the decoder (see the module docstring)."""
        buffered = bytes(self._decoder.buffer)
        self._decoder.buffer.clear()
        match = _LEADING_LINE_BREAK.match(buffered)  # what ended the part's headers
        self._scanner = DelimiterScanner(self._boundary)
        self._first = buffered[match.end() if match else 0 :]

    def _body_data(self) -> memoryview | None:
        """The next piece of the current part's body (maybe empty), or None after its end."""
        scanner = self._scanner
        if scanner is None:
            return None
        if self._first is not None:
            chunk, self._first = self._first, None
        else:
            chunk = self._read_input() if not self._ended else b""
            if not chunk:
                if scanner.bare_line_feeds():
                    raise ValidationError(
                        "The upload is not valid multipart/form-data: a part ends with a bare "
                        "line feed before its --boundary, where RFC 2046 requires CR LF. "
                        "Nothing was kept."
                    )
                raise UploadCutOff(CUT_OFF)
        data = scanner.feed(chunk)
        if scanner.rest is not None:
            # The delimiter and what follows (more parts, the closing boundary) go to a
            # fresh decoder, whose preamble pattern takes a leading CRLF "--boundary".
            self._scanner = None
            self._decoder = self._new_decoder()
            self._decoder.receive_data(scanner.rest)
        return data

    @property
    def file(self) -> FilePartStream:
        return FilePartStream(self)


class FilePartStream:
    """A readable stream of the current file part's bytes (for ``save_stream``).

    ``read`` returns memoryviews of the received chunks (bytes-like, not copied).
    """

    def __init__(self, form: StreamedForm) -> None:
        self._form = form
        self._rest = memoryview(b"")  # what a smaller ``size`` left of the last piece

    def read(self, size: int = -1) -> memoryview | bytes:
        """Up to ``size`` bytes (fewer is normal); empty only at the end of the part."""
        data = self._rest
        while not data:
            data = self._form._body_data()
            if data is None:
                return b""
        if 0 <= size < len(data):
            data, self._rest = data[:size], data[size:]
        else:
            self._rest = memoryview(b"")
        return data

    def read_to_end(self) -> None:
        while self.read(READ_CHUNK):
            pass


class _BodyOfKnownLength:
    """``wsgi.input`` read to at most ``length`` bytes (WSGI servers may not stop there)."""

    def __init__(self, stream: Any, length: int) -> None:
        self._stream = stream
        self._left = length

    def read(self, size: int) -> bytes:
        if self._left <= 0:
            return b""
        data = self._stream.read(min(size, self._left))
        if not data:
            raise ClientDisconnected()
        self._left -= len(data)
        return data


def _too_large() -> TooLarge:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return TooLarge(
        f"The upload is larger than this archive accepts ({limit} bytes at most); "
        "nothing was kept.",
        max_bytes=limit,
    )


def begin() -> StreamedForm | None:
    """Start reading this request's multipart body (see the module docstring).

    Returns None (and leaves the request alone) when the body is not multipart.
    """
    if request.mimetype != "multipart/form-data":
        return None
    boundary = request.mimetype_params.get("boundary", "").encode("latin-1", "replace")
    if not boundary:
        raise ValidationError("The multipart upload has no boundary.")
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    length = request.content_length
    if limit is not None and (length or 0) > limit:
        raise _too_large()  # before reading a single byte
    if length is not None:
        stream: Any = _BodyOfKnownLength(request.environ["wsgi.input"], length)
    else:
        try:
            stream = request.stream  # chunked: Werkzeug stops it at MAX_CONTENT_LENGTH
        except RequestEntityTooLarge:
            raise _too_large() from None
    form = StreamedForm(stream, boundary)
    g.streamed_form = form
    form.read_fields()
    request.form = ImmutableMultiDict(form.fields)  # what the CSRF check reads
    request.files = ImmutableMultiDict()
    return form


def current() -> StreamedForm | None:
    """The form :func:`begin` started for this request, if any."""
    return g.get("streamed_form")
