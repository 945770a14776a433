"""Absolute links come from PUBLIC_BASE_URL, never from the request's Host header, and
requests naming a host the archive does not serve are refused (TRUSTED_HOSTS)."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from sqlalchemy import func, select

from oralhist.extensions import db
from oralhist.models import AccessRequest, Interview
from oralhist.urls import public_url, trusted_hosts

from .conftest import Browser, build_app

FORM = {
    "purpose": "Family history of dockworkers in the 1950s.",
    "intended_use": "research",
    "agree_terms": True,
}


def _mails(app) -> list:
    folder = Path(app.config["OUTBOX_DIR"])
    return [
        BytesParser(policy=policy.default).parsebytes(p.read_bytes())
        for p in sorted(folder.glob("*.eml"))
    ]


def _restricted_interview(app) -> int:
    with app.app_context():
        interview = Interview(
            accession="OH-2026-001", title="Restricted", access_level="restricted"
        )
        interview.status = "published"
        db.session.add(interview)
        db.session.commit()
        return interview.id


@pytest.fixture
def public_app(tmp_path):
    app = build_app(tmp_path, PUBLIC_BASE_URL="https://archive.example.org/oh/")
    yield app
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name != "sqlite":
            db.drop_all()
        db.engine.dispose()


def test_mail_links_use_the_public_base_url_whatever_the_host(public_app):
    from oralhist.services import accounts

    with public_app.app_context():
        for role in ("researcher", "archivist"):
            accounts.create_user(f"{role}@example.org", "correct horse battery", role=role)
        db.session.commit()
    iid = _restricted_interview(public_app)
    researcher = Browser(public_app, "researcher@example.org")
    response = researcher.post(f"/api/v1/interviews/{iid}/access-requests", json=FORM)
    assert response.status_code == 201, response.json
    (mail,) = _mails(public_app)
    body = mail.get_content()
    assert "https://archive.example.org/oh/access/queue?status=pending" in body
    assert "http://localhost" not in body


def test_an_untrusted_host_is_refused_before_anything_happens(app, users):
    iid = _restricted_interview(app)
    researcher = Browser(app, "researcher@example.org")
    for method, url in (("get", "/"), ("post", f"/api/v1/interviews/{iid}/access-requests")):
        response = getattr(researcher.client, method)(
            url,
            json=FORM if method == "post" else None,
            headers={"Host": "evil.example", "X-CSRFToken": researcher.token()},
        )
        assert response.status_code == 400, url
        text = response.get_data(as_text=True)
        # says what an operator must change, and which names the archive answers to
        assert "does not answer to the host name 'evil.example'" in text
        assert "PUBLIC_BASE_URL" in text and "localhost" in text
        assert response.mimetype == "text/plain"  # no page that links to the wrong host
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AccessRequest)) == 0
    assert _mails(app) == []


def test_trusted_hosts_default_to_the_public_host_and_loopback_when_local():
    local = trusted_hosts({"PUBLIC_BASE_URL": "http://127.0.0.1:5000"})
    assert {"127.0.0.1", "localhost", "::1"} <= set(local)
    public = trusted_hosts({"PUBLIC_BASE_URL": "https://archive.example.org"})
    assert public == ["archive.example.org"]


def test_public_url_ignores_the_request(public_app):
    with public_app.test_request_context("/", base_url="http://localhost"):
        url = public_url("catalogue.interview", interview_id=7, t="1:02", _anchor="transcript")
    assert url == "https://archive.example.org/oh/interviews/7?t=1:02#transcript"
