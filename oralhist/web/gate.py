"""The request gate: everything decided about a request before its body is read.

A request that cannot succeed is refused before its body is read (DESIGN invariant 6). The
gate runs as the application's first URL-value preprocessor, so before every blueprint's
preprocessor (the streamed upload starts there) and every ``before_request`` hook, and it
decides, in this order, from the request line and headers alone:

1. **Routing**: an unknown URL is 404, a wrong method 405 with ``Allow``, an untrusted
   ``Host`` 400 (``TRUSTED_HOSTS``); before any CSRF check could answer 400 instead.
2. **Size**: each route has its own body limit (:data:`BODY_LIMITS`; ordinary forms and JSON
   get ``MAX_FORM_BYTES``, 1 MiB). A ``Content-Length`` over it is refused at once (413); a
   chunked body is counted as it arrives and cut at the limit (``request.max_content_length``,
   which Werkzeug's input stream enforces).
3. **Credentials**: a ``Bearer`` token must be valid (else 401 ``invalid_token``); a write
   without a signed-in user is refused (401 with ``WWW-Authenticate: Bearer`` under
   ``/api/``, the sign-in page otherwise), except on :data:`ANONYMOUS_WRITES`.
4. **CSRF** for cookie sessions: from the ``X-CSRFToken`` header when there is one; in a
   multipart form from its first part only (the forms put ``csrf_token`` first), read with at
   most :data:`CSRF_PEEK_BYTES` and then replayed to whoever reads the body next; otherwise
   from the (small, limited) form body. Bearer-token requests need none: browsers never send
   that header on their own.

Under gunicorn each read of a body waits at most ``BODY_READ_TIMEOUT_S`` for the client
(:func:`_bound_body_reads`), so slow bodies cannot hold the worker threads.

Refusals made here mark the response ``Connection: close``: a WSGI server that keeps the
connection open would otherwise read (and discard) the unread body to reach the next request.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import IO, Any

from flask import Flask, Request, current_app, g, request
from werkzeug.exceptions import (
    ClientDisconnected,
    HTTPException,
    RequestEntityTooLarge,
    SecurityError,
)
from werkzeug.sansio.multipart import NEED_DATA, Data, Field, MultipartDecoder, Preamble

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

#: Endpoints that accept a write from someone not signed in.
ANONYMOUS_WRITES = frozenset({"auth.login", "auth.signup"})
#: POST routes that only read (OAI-PMH allows its requests as POST forms): no sign-in, no CSRF.
READ_ONLY_POSTS = frozenset({"oai.endpoint"})

#: The most read of a multipart body to find its ``csrf_token`` part (the first part).
CSRF_PEEK_BYTES = 64 * 1024
#: Room for a multipart envelope and its small fields around a file of the route's limit.
MULTIPART_OVERHEAD = 1024 * 1024

log = logging.getLogger(__name__)


def _media_limit() -> int | None:
    return current_app.config.get("MAX_CONTENT_LENGTH")


def _transcript_limit() -> int:
    from ..services.transcripts import max_bytes

    return max_bytes() + MULTIPART_OVERHEAD


def _attachment_limit() -> int:
    from ..services.documents import max_attachment_bytes

    return max_attachment_bytes() + MULTIPART_OVERHEAD


#: Routes whose body may be larger than an ordinary form: endpoint -> its limit (bytes).
BODY_LIMITS: dict[str, Callable[[], int | None]] = {
    "recordings.upload": _media_limit,
    "api.upload_recording": _media_limit,
    "deposit.stage_audio": _media_limit,
    "api.stage_deposit_audio": _media_limit,
    "deposit.deposit": _transcript_limit,  # the one-step deposit's form carries the transcript
    "transcripts.import_form": _transcript_limit,
    "api.import_transcript": _transcript_limit,
    "documents.edit": _attachment_limit,
    "api.create_document": _attachment_limit,
    "api.update_document": _attachment_limit,
}


def body_limit(endpoint: str | None) -> int | None:
    """The most bytes a request to ``endpoint`` may send (``MAX_FORM_BYTES`` unless listed)."""
    special = BODY_LIMITS.get(endpoint or "")
    if special is not None:
        return special()
    return int(current_app.config["MAX_FORM_BYTES"])


class GatedRequest(Request):
    """Flask's request, closing the temporary files of a form whose parsing was cut off (a
    body over its limit ends the parse with 413 while a file part is half spooled)."""

    def _get_file_stream(self, *args: Any, **kwargs: Any) -> IO[bytes]:
        stream = super()._get_file_stream(*args, **kwargs)
        self.__dict__.setdefault("_oh_file_streams", []).append(stream)
        return stream

    def close(self) -> None:
        for stream in self.__dict__.pop("_oh_file_streams", []):
            stream.close()
        sock = self.__dict__.pop("_oh_timed_socket", None)
        if sock is not None:  # before the response is sent: writes keep no timeout
            with contextlib.suppress(OSError):
                sock.settimeout(None)
        super().close()


def register_gate(app: Flask) -> None:
    """Install the gate (first of every preprocessor) and its ``Connection: close``."""
    app.request_class = GatedRequest
    app.url_value_preprocessors.setdefault(None, []).insert(0, _gate)

    @app.after_request
    def _close_unread(response):
        # Also after any error on a request with a body: its body may be partly unread (a
        # timed-out read, a parse error), and draining it could hold the thread again.
        if g.get("oh_body_refused") or (response.status_code >= 400 and _has_body()):
            response.headers["Connection"] = "close"
        return response


def _has_body() -> bool:
    return (
        bool(request.content_length)
        or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    )


def _explained(error: Exception) -> Exception:
    """An untrusted ``Host`` refused with what an operator must change: an archive upgraded
    from before ``PUBLIC_BASE_URL`` existed, or moved, answers only to the loopback names."""
    if not isinstance(error, SecurityError):
        return error
    allowed = ", ".join(current_app.config.get("TRUSTED_HOSTS") or []) or "none"
    host = request.environ.get("HTTP_HOST", "")[:100]
    log.warning("refused a request for host %r (trusted: %s)", host, allowed)
    return SecurityError(
        f"This archive does not answer to the host name {host!r} (it answers to: {allowed})."
        " If this is the archive's own address, set PUBLIC_BASE_URL (or TRUSTED_HOSTS) in"
        " instance/config.py and restart it."
    )


def _refuse(error: Exception) -> None:
    """Raise ``error``, and close the connection after the answer if a body is unread."""
    if _has_body():
        g.oh_body_refused = True
    raise error


def _gate(endpoint: str | None, values: Any) -> None:
    if request.routing_exception is not None:
        _refuse(_explained(request.routing_exception))
    limit = body_limit(endpoint)
    request.max_content_length = limit
    if limit is not None and (request.content_length or 0) > limit:
        _refuse(_too_large(limit))
    _bound_body_reads()
    if limit is not None and request.content_length is None and _has_body():
        # Chunked: count the bytes as they arrive and refuse the one past the limit.
        # (Werkzeug's own limit would silently cut a url-encoded form at the limit.)
        request.environ["wsgi.input"] = _CountedInput(request.environ["wsgi.input"], limit)
        request.max_content_length = None
    from flask_login import current_user

    from ..errors import AccessDenied, AuthenticationRequired

    if request.headers.get("Authorization", "").startswith("Bearer "):
        if current_user.is_authenticated and g.get("oh_token_auth"):
            return  # a token cannot be forged cross-site: no CSRF token needed
        _refuse(
            AuthenticationRequired(
                "The API token is not valid (unknown, revoked or disabled).",
                bearer_error="invalid_token",
            )
        )
    if request.method in SAFE_METHODS or endpoint in READ_ONLY_POSTS:
        return
    if not current_user.is_authenticated and endpoint not in ANONYMOUS_WRITES:
        if request.path.startswith("/api/"):
            _refuse(
                AuthenticationRequired(
                    "Sign in first: send Authorization: Bearer TOKEN (a personal API token)."
                )
            )
        _refuse(AccessDenied("Please sign in first."))
    _check_csrf()


def _bound_body_reads() -> None:
    """Under gunicorn, make each read of a request body wait at most
    ``BODY_READ_TIMEOUT_S`` for the client: a client that announces a body and sends it
    slowly (or never) then ends with 400 instead of holding a worker thread for as long as
    it likes. Restored when the request closes, before the response is written."""
    timeout = current_app.config.get("BODY_READ_TIMEOUT_S")
    sock = request.environ.get("gunicorn.socket")
    if sock is None or not timeout or not _has_body():
        return
    sock.settimeout(float(timeout))
    request.__dict__["_oh_timed_socket"] = sock


class _CountedInput:
    """A chunked body that raises 413 as soon as more than ``limit`` bytes have arrived."""

    def __init__(self, stream: Any, limit: int) -> None:
        self._stream = stream
        self._limit = self._left = limit

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            out = bytearray()
            while chunk := self.read(64 * 1024):
                out += chunk
            return bytes(out)
        # Ask for one byte more than is left, so a body one byte over is caught.
        try:
            data = self._stream.read(min(size, self._left + 1))
        except OSError as exc:  # the client went quiet (BODY_READ_TIMEOUT_S) or away
            raise ClientDisconnected() from exc
        self._left -= len(data)
        if self._left < 0:
            raise _too_large(self._limit)
        return data


def _too_large(limit: int) -> HTTPException:
    error = RequestEntityTooLarge()
    error.oh_limit = limit  # type: ignore[attr-defined]  (errors.py names it)
    return error


# --- CSRF ----------------------------------------------------------------------------------


def _check_csrf() -> None:
    """Flask-WTF's check, with the token found without reading more of the body than needed."""
    from flask_wtf.csrf import CSRFError, same_origin, validate_csrf
    from wtforms import ValidationError

    config = current_app.config
    if request.method not in config["WTF_CSRF_METHODS"]:
        return
    token = None
    for header in config["WTF_CSRF_HEADERS"]:
        token = request.headers.get(header)
        if token:
            break
    else:
        if request.mimetype == "multipart/form-data":
            token = _first_part_token(config["WTF_CSRF_FIELD_NAME"])
        else:
            token = request.form.get(config["WTF_CSRF_FIELD_NAME"])
    try:
        validate_csrf(token)
    except ValidationError as exc:
        _refuse(CSRFError(exc.args[0]))
    if request.is_secure and config["WTF_CSRF_SSL_STRICT"]:
        if not request.referrer:
            _refuse(CSRFError("The referrer header is missing."))
        if not same_origin(request.referrer, f"https://{request.host}/"):
            _refuse(CSRFError("The referrer does not match the host."))
    g.csrf_valid = True


class _Replay:
    """``wsgi.input`` with the bytes already read put back in front of the rest."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size is None or size < 0 or size >= len(self._head):
                data, self._head = bytes(self._head), memoryview(b"")
                if size is None or size < 0:
                    return data + self._rest.read()
                return data
            data, self._head = bytes(self._head[:size]), self._head[size:]
            return data
        return self._rest.read(size) if size is not None else self._rest.read()

    def readline(self, size: int = -1) -> bytes:  # pragma: no cover - multipart never asks
        if self._head:
            return self.read(size)
        return self._rest.readline(size)


def _first_part_token(field_name: str) -> str | None:
    """The value of the multipart body's first part when that part is ``field_name``.

    Reads at most :data:`CSRF_PEEK_BYTES` (never past ``Content-Length``) and puts what it
    read back in front of ``wsgi.input`` for the form parser or the streamed upload. A body
    whose first part is anything else (a file, another field) has no token: a browser form
    of this archive always sends ``csrf_token`` first.
    """
    boundary = request.mimetype_params.get("boundary", "").encode("latin-1", "replace")
    if not boundary:
        return None
    environ = request.environ
    raw = environ["wsgi.input"]
    length = request.content_length
    budget = CSRF_PEEK_BYTES if length is None else min(CSRF_PEEK_BYTES, length)
    read = bytearray()
    decoder = MultipartDecoder(boundary, max_form_memory_size=CSRF_PEEK_BYTES)
    token: bytearray | None = None
    try:
        while True:
            event = decoder.next_event()
            if event is NEED_DATA:
                want = min(8192, budget - len(read))
                try:
                    chunk = raw.read(want) if want > 0 else b""
                except OSError as exc:  # the client went quiet or away
                    raise ClientDisconnected() from exc
                if not chunk:
                    token = None
                    break  # the budget or the body ended before the token did
                read += chunk
                decoder.receive_data(chunk)
            elif isinstance(event, Preamble):
                continue
            elif isinstance(event, Field) and event.name == field_name and token is None:
                token = bytearray()
            elif isinstance(event, Data) and token is not None:
                token += event.data
                if not event.more_data:
                    break
            else:
                token = None
                break  # the first part is something else
    except (ValueError, RequestEntityTooLarge):
        token = None
    finally:
        environ["wsgi.input"] = _Replay(bytes(read), raw)
    return None if token is None else token.decode("ascii", "replace")
