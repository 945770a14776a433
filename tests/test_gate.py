"""The request gate (``oralhist.web.gate``): a request that cannot succeed is refused before
its body is read, wrong methods get 405, and API calls without credentials get 401.

The body tests go through the real WSGI path (``app(environ, start_response)``) with a body
that counts what the application consumed, so they show how much was read, not only the
status."""

from __future__ import annotations

import io

import pytest
from werkzeug.test import EnvironBuilder

from oralhist.web.gate import CSRF_PEEK_BYTES

GIB = 1024**3


class CountingBody:
    """A request body of ``size`` bytes made on demand; ``consumed`` counts what was read."""

    def __init__(self, size: int, prefix: bytes = b"") -> None:
        self.size = size
        self.prefix = prefix
        self.consumed = 0

    def read(self, n: int = -1) -> bytes:
        left = self.size - self.consumed
        if n is None or n < 0 or n > left:
            n = left
        n = min(n, 1024 * 1024)  # a socket never hands over more at once
        start = self.consumed
        self.consumed += n
        head = self.prefix[start : start + n]
        return head + b"x" * (n - len(head))

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def call_wsgi(
    app, method, path, body: CountingBody, *, content_type: str, chunked=False, headers=None
):
    """Run one request through the app's WSGI callable; returns (status, headers, text)."""
    builder = EnvironBuilder(
        path=path, method=method, headers=headers or {}, base_url="http://localhost"
    )
    environ = builder.get_environ()
    environ["CONTENT_TYPE"] = content_type  # as sent (the builder would make its own boundary)
    environ["wsgi.input"] = body
    if chunked:
        environ.pop("CONTENT_LENGTH", None)
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        environ["wsgi.input_terminated"] = True
    else:
        environ["CONTENT_LENGTH"] = str(body.size)
    captured = {}

    def start_response(status, response_headers, exc_info=None):
        captured["status"] = int(status.split()[0])
        captured["headers"] = dict(response_headers)

    chunks = app(environ, start_response)
    try:
        text = b"".join(chunks).decode("utf-8", "replace")
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return captured["status"], captured["headers"], text


@pytest.fixture
def interview_id(browser):
    response = browser("archivist").post("/api/v1/interviews", json={"title": "Gate test"})
    assert response.status_code == 201
    return response.json["id"]


def _cookie_headers(signed_in) -> dict[str, str]:
    cookie = signed_in.client.get_cookie("session")
    return {"Cookie": f"session={cookie.value}"}


def _multipart(fields: list[tuple[str, str | None]], boundary: str = "XyZ") -> bytes:
    """The start of a multipart body: plain fields (value) or a file part (None)."""
    out = b""
    for name, value in fields:
        if value is None:
            out += (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="big.vtt"\r\nContent-Type: text/vtt\r\n\r\n'
            ).encode()
        else:
            out += (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            ).encode()
    return out


# --- anonymous requests: nothing of the body is read --------------------------------------


def test_anonymous_api_upload_is_refused_unread_with_401(app, interview_id):
    body = CountingBody(20 * 1024 * 1024, _multipart([("file", None)]))  # within the limit
    status, headers, text = call_wsgi(
        app,
        "POST",
        f"/api/v1/interviews/{interview_id}/transcripts",
        body,
        content_type="multipart/form-data; boundary=XyZ",
    )
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert headers["Connection"] == "close"
    assert '"unauthorized"' in text
    assert body.consumed == 0


def test_anonymous_page_upload_is_sent_to_sign_in_unread(app, interview_id):
    body = CountingBody(GIB, _multipart([("csrf_token", "x"), ("file", None)]))
    status, headers, _ = call_wsgi(
        app,
        "POST",
        f"/interviews/{interview_id}/recordings",
        body,
        content_type="multipart/form-data; boundary=XyZ",
    )
    assert status == 302 and "/login" in headers["Location"]
    assert body.consumed == 0


def test_a_gibibyte_to_login_is_refused_before_reading(app):
    """The reported case: 1 GiB to /login used 1.07 GiB of temporary disk before a 400."""
    body = CountingBody(GIB, _multipart([("email", "a@b.c"), ("password", "x" * 20)]))
    status, headers, text = call_wsgi(
        app, "POST", "/login", body, content_type="multipart/form-data; boundary=XyZ"
    )
    assert status == 413
    assert headers["Connection"] == "close"
    assert str(app.config["MAX_FORM_BYTES"]) in text
    assert body.consumed == 0


def test_a_chunked_login_body_is_cut_at_the_form_limit(app):
    body = CountingBody(GIB, b"email=a%40b.c&password=")
    status, _, text = call_wsgi(
        app,
        "POST",
        "/login",
        body,
        chunked=True,
        content_type="application/x-www-form-urlencoded",
    )
    assert status == 413, text
    assert body.consumed <= app.config["MAX_FORM_BYTES"] + 1024 * 1024


# --- signed-in cookie sessions: CSRF found without reading the file ----------------------


def test_multipart_without_csrf_first_is_refused_after_the_first_part(app, browser, interview_id):
    archivist = browser("archivist")
    body = CountingBody(20 * 1024 * 1024, _multipart([("file", None)]))  # within the limit
    status, _, text = call_wsgi(
        app,
        "POST",
        f"/interviews/{interview_id}/transcript/import",
        body,
        headers=_cookie_headers(archivist),
        content_type="multipart/form-data; boundary=XyZ",
    )
    assert status == 400
    assert "CSRF token is missing" in text
    assert body.consumed <= CSRF_PEEK_BYTES


def test_multipart_with_a_wrong_csrf_token_is_refused_after_the_first_part(
    app, browser, interview_id
):
    archivist = browser("archivist")
    body = CountingBody(GIB, _multipart([("csrf_token", "forged"), ("file", None)]))
    status, _, text = call_wsgi(
        app,
        "POST",
        f"/api/v1/interviews/{interview_id}/recordings",
        body,
        headers=_cookie_headers(archivist),
        content_type="multipart/form-data; boundary=XyZ",
    )
    assert status == 400
    assert "CSRF token is invalid" in text
    assert body.consumed <= CSRF_PEEK_BYTES


def test_a_chunked_transcript_upload_is_cut_at_the_transcript_limit(app, browser, interview_id):
    """The reported case: a chunked 1 GiB transcript upload spooled 1.1 GiB before its 413."""
    archivist = browser("archivist")
    body = CountingBody(GIB, _multipart([("csrf_token", archivist.token()), ("file", None)]))
    status, _, text = call_wsgi(
        app,
        "POST",
        f"/api/v1/interviews/{interview_id}/transcripts",
        body,
        chunked=True,
        headers={**_cookie_headers(archivist), "X-CSRFToken": archivist.token()},
        content_type="multipart/form-data; boundary=XyZ",
    )
    assert status == 413
    assert '"too_large"' in text
    limit = 25 * 1024 * 1024 + 1024 * 1024
    assert limit <= body.consumed <= limit + 2 * 1024 * 1024


def test_a_transcript_upload_over_its_limit_is_refused_unread(app, browser, interview_id):
    archivist = browser("archivist")
    body = CountingBody(200 * 1024 * 1024, _multipart([("file", None)]))
    status, _, _ = call_wsgi(
        app,
        "POST",
        f"/api/v1/interviews/{interview_id}/transcripts",
        body,
        headers={**_cookie_headers(archivist), "X-CSRFToken": archivist.token()},
        content_type="multipart/form-data; boundary=XyZ",
    )
    assert status == 413
    assert body.consumed == 0


def test_the_token_in_the_first_part_is_enough_and_the_body_is_still_read_whole(
    app, browser, interview_id
):
    """No X-CSRFToken header: the gate reads the first part, then the form parser gets the
    whole body (what the gate read is put back)."""
    archivist = browser("archivist")
    vtt = b"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n<v Ann>Hello there.\n"
    response = archivist.client.post(
        f"/api/v1/interviews/{interview_id}/transcripts",
        data={"csrf_token": archivist.token(), "file": (io.BytesIO(vtt), "t.vtt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    assert response.json["segments"] == 1


# --- methods and credentials ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
@pytest.mark.parametrize("path", ["/login", "/", "/interviews", "/account/"])
def test_wrong_methods_on_pages_are_405_with_allow(browser, method, path):
    for client in (browser(None).client, browser("researcher").client):
        response = client.open(path, method=method)
        assert response.status_code == 405, (path, response.status_code)
        allowed = {m.strip() for m in response.headers["Allow"].split(",")}
        assert "GET" in allowed and method not in allowed


def test_wrong_method_on_the_api_is_405_json(browser, interview_id):
    response = browser("archivist").client.put(f"/api/v1/interviews/{interview_id}", json={})
    assert response.status_code == 405
    assert "PATCH" in response.headers["Allow"]
    assert response.json["error"]["code"] == "method_not_allowed"


def test_api_write_without_credentials_is_401_bearer(browser):
    response = browser(None).client.post("/api/v1/interviews", json={"title": "x"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="oralhist"'
    assert response.json["error"]["code"] == "unauthorized"


def test_api_write_from_a_cookie_session_without_csrf_stays_400(browser):
    response = browser("archivist").client.post("/api/v1/interviews", json={"title": "x"})
    assert response.status_code == 400
    assert "CSRF token is missing" in response.json["error"]["message"]
    assert "WWW-Authenticate" not in response.headers


def test_api_read_that_needs_a_user_is_401_for_the_anonymous(browser):
    response = browser(None).client.get("/api/v1/access-requests")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_every_multipart_form_sends_its_csrf_token_first():
    """The gate reads only a multipart body's first part for the token: every such form in
    the templates must start with it (as upload.js does)."""
    import re
    from pathlib import Path

    import oralhist

    templates = Path(oralhist.__file__).parent / "templates"
    forms = []
    for path in templates.rglob("*.html"):
        text = path.read_text()
        for match in re.finditer(r"<form[^>]*multipart/form-data[^>]*>", text):
            after = text[match.end() :]
            first_field = re.search(r"\{\{\s*csrf\(\)\s*\}\}|<input|<select|<textarea", after)
            forms.append((path.name, first_field.group(0) if first_field else None))
    assert len(forms) >= 4
    assert all(first and first.startswith("{{") for _, first in forms), forms
