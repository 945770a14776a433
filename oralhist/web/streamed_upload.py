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
   part's bytes) to ``LocalStorage.save_stream``, which writes it straight into storage's temp
   file while hashing. Memory use is one read chunk plus the decoder's small look-behind.
3. If the body ends before the multipart's closing boundary (a cut-off upload) the file
   stream raises :class:`UploadCutOff`, so ``save_stream`` removes its temp file and nothing is
   left. Fields sent after the file (an API client's ``label``) are read by :meth:`finish`.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.sansio.multipart import (
    NEED_DATA,
    Data,
    Epilogue,
    Field,
    File,
    MultipartDecoder,
)

from ..errors import TooLarge, ValidationError

READ_CHUNK = 1024 * 1024
#: The small text fields (CSRF token, label) together: anything bigger is not our form.
MAX_FIELD_BYTES = 64 * 1024
MAX_PARTS = 20


class UploadCutOff(ValidationError):
    """The request body ended before the upload was complete."""


class StreamedForm:
    """One multipart/form-data body, parsed incrementally from ``stream``."""

    def __init__(self, stream: Any, boundary: bytes) -> None:
        self._stream = stream
        self._decoder = MultipartDecoder(boundary, max_parts=MAX_PARTS)
        self._ended = False  # the input stream is exhausted
        self.fields: MultiDict[str, str] = MultiDict()
        self._field_bytes = 0
        #: the file part reached by :meth:`read_fields`: (field name, filename, content type)
        self.file_name: str | None = None
        self.filename: str | None = None
        self.content_type: str | None = None
        self._in_file = False
        self._complete = False

    # -- decoder plumbing -------------------------------------------------------------------

    def _next_event(self):
        while True:
            try:
                event = self._decoder.next_event()
            except RequestEntityTooLarge:
                raise ValidationError(f"The upload has more than {MAX_PARTS} parts.") from None
            except (ValueError, UnicodeDecodeError) as exc:
                if self._ended:
                    raise UploadCutOff(
                        "The upload was cut off before it was complete; nothing was kept. "
                        "Please try again."
                    ) from None
                raise ValidationError(
                    f"The upload is not valid multipart/form-data ({exc})."
                ) from None
            if event is not NEED_DATA:
                return event
            if self._ended:
                raise UploadCutOff(
                    "The upload was cut off before it was complete; nothing was kept. "
                    "Please try again."
                )
            chunk = self._read_input()
            if chunk:
                self._decoder.receive_data(chunk)
            else:
                self._ended = True
                self._decoder.receive_data(None)

    def _read_input(self) -> bytes:
        try:
            return self._stream.read(READ_CHUNK)
        except RequestEntityTooLarge:
            raise _too_large() from None
        except (OSError, ValueError, ClientDisconnected) as exc:  # the client went away
            raise UploadCutOff(
                "The upload was cut off before it was complete; nothing was kept."
            ) from exc

    # -- fields ----------------------------------------------------------------------------

    def read_fields(self) -> bool:
        """Read plain fields up to the first file part (True) or to the end (False)."""
        current: str | None = None
        value = bytearray()
        while True:
            event = self._next_event()
            if isinstance(event, Field):
                current, value = event.name, bytearray()
            elif isinstance(event, File):
                self.file_name = event.name
                self.filename = event.filename
                self.content_type = event.headers.get("content-type")
                self._in_file = True
                return True
            elif isinstance(event, Data):
                if current is None:
                    continue  # data of a skipped part
                self._field_bytes += len(event.data)
                if self._field_bytes > MAX_FIELD_BYTES:
                    raise ValidationError("The form's text fields are too long.")
                value.extend(event.data)
                if not event.more_data:
                    self.fields.add(current, value.decode("utf-8", "replace"))
                    current = None
            elif isinstance(event, Epilogue):
                self._complete = True
                return False

    def finish(self) -> None:
        """Read what follows the file: more plain fields (a second file part is refused)."""
        if self._complete:
            return
        if self._in_file:
            self.file.read_to_end()
        if self.read_fields():
            raise ValidationError("Send one file per upload.")

    # -- the file part ---------------------------------------------------------------------

    @property
    def file(self) -> FilePartStream:
        return FilePartStream(self)


class FilePartStream:
    """A readable stream of the current file part's bytes (for ``save_stream``)."""

    def __init__(self, form: StreamedForm) -> None:
        self._form = form
        self._buffer = bytearray()

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (fewer is normal); b"" only at the end of the part.

        Returns the decoder's chunks as they are when they fit, to avoid another copy.
        """
        form = self._form
        if not self._buffer:
            while form._in_file:
                event = form._next_event()
                if not isinstance(event, Data):  # pragma: no cover - Data until the part ends
                    form._in_file = False
                    break
                if not event.more_data:
                    form._in_file = False
                if event.data:
                    if size < 0 or len(event.data) <= size:
                        return event.data
                    self._buffer.extend(event.data)
                    break
        if size < 0 or size >= len(self._buffer):
            out = bytes(self._buffer)
            self._buffer.clear()
        else:
            out = bytes(self._buffer[:size])
            del self._buffer[:size]
        return out

    def read_to_end(self) -> None:
        while self.read(READ_CHUNK):
            pass


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
    if limit is not None and (request.content_length or 0) > limit:
        raise _too_large()  # before reading a single byte
    try:
        stream = request.stream
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
