"""The domain error hierarchy, and the one place that maps it to HTTP.

Domain code (services, parsers, the media adapter, the access workflow) raises these typed
errors and never calls ``abort()``. ``register_error_handlers`` turns them into an HTML error
page, or into the JSON error shape of the API (``{"error": {"code", "message", "details"}}``)
under ``/api/``.

Nothing in the class definitions imports Flask, so pure modules (``transcripts/``,
``media/``, ``search/``) can raise them.
"""

from __future__ import annotations

from typing import Any


class OralHistError(Exception):
    """Base of every error a user can be told about. ``status`` is the HTTP status."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = {k: v for k, v in details.items() if v is not None}

    def __str__(self) -> str:
        return self.message


class ValidationError(OralHistError):
    """Input that does not say what it must: a missing title, a malformed date.

    ``details["fields"]`` maps field names to messages when the error concerns form fields.
    """

    status = 422
    code = "validation_error"


class NotFound(OralHistError):
    status = 404
    code = "not_found"


class AccessDenied(OralHistError):
    """The acting user may not do this. Also raised for anonymous users (the web layer turns
    that case into a redirect to sign in for pages)."""

    status = 403
    code = "forbidden"


class AuthenticationRequired(AccessDenied):
    """No credentials, or credentials that are not valid, where the action needs them: 401
    with ``WWW-Authenticate: Bearer`` (RFC 6750; ``bearer_error`` is its ``error``, e.g.
    ``invalid_token``). Anonymous API requests refused with ``AccessDenied`` get the same."""

    status = 401
    code = "unauthorized"

    def __init__(self, message: str, *, bearer_error: str | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.bearer_error = bearer_error


class TooManyAttempts(OralHistError):
    """Too many failed attempts (sign-in): 429 with ``Retry-After`` seconds."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int, **details: Any) -> None:
        super().__init__(message, retry_after=retry_after, **details)
        self.retry_after = max(1, int(retry_after))


class Conflict(OralHistError):
    """The request contradicts what is stored: a duplicate accession, an open request."""

    status = 409
    code = "conflict"


class VersionConflict(Conflict):
    """An edit made on a transcript version that is no longer the current one (optimistic
    locking): ``details`` carry ``current_version``, ``base_version`` and what changed."""

    code = "version_conflict"


class InvalidTransition(Conflict):
    """A workflow move that the transition table does not allow from the current state."""

    code = "invalid_transition"


class TooLarge(OralHistError):
    status = 413
    code = "too_large"


class UnsupportedMedia(OralHistError):
    """A file that is not audio (or not a PDF/image for documents) or whose content does not
    match its name. ``details`` carry ``filename`` and ``reason``."""

    status = 415
    code = "unsupported_media"


class TranscriptError(OralHistError):
    """A transcript file that cannot be imported. Always names the file, the line (1-based,
    or ``None`` for whole-file problems such as encoding) and the reason.
    """

    status = 422
    code = "transcript_error"

    def __init__(self, reason: str, *, filename: str | None = None, line: int | None = None):
        self.reason = reason
        self.filename = filename
        self.line = line
        where = filename or "transcript"
        if line is not None:
            where = f"{where}, line {line}"
        super().__init__(f"{where}: {reason}", filename=filename, line=line, reason=reason)


class QueryError(OralHistError):
    """A search query that cannot be understood; the message says what to change."""

    status = 400
    code = "bad_query"


def register_error_handlers(app) -> None:
    """Map domain errors and HTTP errors to HTML pages, or to JSON under ``/api/``."""
    from flask import jsonify, render_template, request
    from werkzeug.exceptions import HTTPException

    def wants_json() -> bool:
        # IIIF resources are read by viewers and scripts too: JSON errors, 401 not a redirect.
        return request.path.startswith(("/api/", "/iiif/"))

    def render(status: int, code: str, message: str, details: dict | None = None):
        from flask.globals import _cv_request

        context = _cv_request.get(None)
        if context is not None and context.url_adapter is None:
            # The request was refused before a URL adapter existed (an untrusted Host):
            # the HTML page cannot build its links, so answer in plain text.
            return app.response_class(f"{status}: {message}\n", mimetype="text/plain"), status
        if wants_json():
            body = {"error": {"code": code, "message": message, "details": details or {}}}
            return jsonify(body), status
        return (
            render_template("error.html", status=status, message=message, details=details or {}),
            status,
        )

    @app.errorhandler(OralHistError)
    def handle_domain_error(error: OralHistError):
        from flask_login import current_user

        from .extensions import db

        db.session.rollback()
        if isinstance(error, AccessDenied) and not current_user.is_authenticated:
            if wants_json() or isinstance(error, AuthenticationRequired):
                # RFC 7235: no (valid) credentials where some are needed is 401, not 403.
                challenge = 'Bearer realm="oralhist"'
                bearer_error = getattr(error, "bearer_error", None)
                if bearer_error:
                    challenge += f', error="{bearer_error}"'
                resp, status = render(401, "unauthorized", error.message, error.details)
                return resp, status, {"WWW-Authenticate": challenge}
            from flask import redirect, url_for

            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        response = render(error.status, error.code, error.message, error.details)
        if getattr(error, "retry_after", None):  # 429 sign-in, 503 audio being prepared
            resp, status = response
            return resp, status, {"Retry-After": str(error.retry_after)}
        return response

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        code = (error.name or "error").lower().replace(" ", "_")
        message = error.description or error.name
        if error.code == 413:
            limit = getattr(error, "oh_limit", None) or request.max_content_length
            message = "The upload is larger than this archive accepts"
            if limit:
                message += f" ({limit} bytes at most)"
            message += "."
            code = "too_large"
        response = render(error.code, code, message)
        if error.code == 405 and getattr(error, "valid_methods", None):
            resp, status = response
            return resp, status, {"Allow": ", ".join(error.valid_methods)}
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        from .extensions import db

        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return render(500, "internal_error", "Something went wrong on our side. It was logged.")
