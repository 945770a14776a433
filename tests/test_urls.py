"""The one deep-link builder and the one ``next`` check (``oralhist.urls``)."""

from __future__ import annotations

import pytest

from oralhist.urls import moment_url, safe_next

from .conftest import PASSWORD, Browser


@pytest.mark.parametrize(
    "target",
    [
        "/interviews/3",
        "/access/queue?status=submitted&page=2",
        "/documents/7#passages",
    ],
)
def test_safe_next_follows_same_origin_paths(target):
    assert safe_next("/home", target) == target


@pytest.mark.parametrize(
    "target",
    [
        "",
        "https://evil.example/x",
        "//evil.example/x",
        "/\\evil.example/x",  # browsers read a backslash as a slash: //evil.example
        "/\t/evil.example/x",  # browsers drop tabs and newlines: //evil.example
        "/\n/evil.example/x",
        "javascript:alert(1)",
        "interviews/3",  # relative to what? never followed
        "http:/evil.example",
    ],
)
def test_safe_next_refuses_anything_else(target):
    assert safe_next("/home", target) == "/home"


@pytest.mark.parametrize("field", ["next_in_form", "next_in_query"])
def test_safe_next_reads_the_request(app, field):
    data = {"next": "/\\evil.example"} if field == "next_in_form" else None
    query = "" if data else "?next=/interviews/2"
    with app.test_request_context(f"/x{query}", method="POST", data=data):
        expected = "/home" if data else "/interviews/2"
        assert safe_next("/home") == expected


@pytest.mark.parametrize("target", ["/\\evil.example/x", "/\t/evil.example/x"])
def test_sign_in_does_not_follow_a_backslash_or_tab_to_another_site(app, users, target):
    client = Browser(app)
    response = client.client.post(
        "/login",
        query_string={"next": target},
        data={
            "email": "researcher@example.org",
            "password": PASSWORD,
            "csrf_token": client.token(),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_moment_url_shapes(app):
    app.config["PUBLIC_BASE_URL"] = "https://archive.example.org/oh"
    with app.test_request_context("/"):
        assert moment_url(4) == "/interviews/4"
        assert moment_url(4, 61_500) == "/interviews/4?t=61.5"
        assert moment_url(4, 0, segment_id=9) == "/interviews/4?t=0&hl=9"
        assert moment_url(4, 61_000, segment_id=9, anchor=True) == "/interviews/4?t=61&hl=9#seg-9"
        assert moment_url(4, None, segment_id=9, anchor=True) == "/interviews/4?hl=9#seg-9"
        assert (
            moment_url(4, 1_000, end_ms=2_250, external=True)
            == "https://archive.example.org/oh/interviews/4?t=1&end=2.25"
        )
