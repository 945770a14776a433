"""Sign up, sign in, sign out, passwords, CSRF and API tokens."""

from __future__ import annotations

import re

from oralhist.extensions import db
from oralhist.models import ApiToken, User

from .conftest import PASSWORD, Browser


def test_signup_makes_a_researcher(app, browser):
    client = browser()
    response = client.post(
        "/signup",
        data={
            "email": "New@Example.org",
            "name": "New",
            "password": "long enough pw",
            "password_again": "long enough pw",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.query(User).filter_by(email="new@example.org").one()
        assert user.role == "researcher"
        assert user.password_hash.startswith("pbkdf2:sha256:1000")
    assert create_app_default_method() == "scrypt"


def create_app_default_method() -> str:
    from oralhist import config

    return config.PASSWORD_HASH_METHOD


def test_signup_validation(app, browser, users):
    client = browser()
    cases = [
        ({"email": "not-an-email", "password": "long enough pw"}, "email"),
        ({"email": "a@example.org", "password": "short"}, "10 characters"),
        ({"email": "RESEARCHER@example.org", "password": "long enough pw"}, "exists already"),
    ]
    for data, expected in cases:
        data["password_again"] = data["password"]
        response = client.post("/signup", data=data)
        assert 400 <= response.status_code < 500
        assert expected in response.get_data(as_text=True)
    mismatch = client.post(
        "/signup",
        data={
            "email": "b@example.org",
            "password": "long enough pw",
            "password_again": "different pw!!",
        },
    )
    assert mismatch.status_code == 422
    with app.app_context():
        assert db.session.query(User).count() == len(users)


def test_login_failure_does_not_reveal_whether_the_email_exists(app, users):
    client = Browser(app)
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "x" * 12})
    wrong = client.post("/login", data={"email": "researcher@example.org", "password": "x" * 12})
    assert unknown.status_code == wrong.status_code == 401
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(unknown).replace("nobody@example.org", "") == strip(wrong).replace(
        "researcher@example.org", ""
    )


def test_an_unknown_email_is_checked_against_a_hash_of_the_accounts_method(app, monkeypatch):
    """A failed sign-in for an unknown email checks a password hash made with the method real
    accounts are hashed with (the same work as a wrong password), made once when first
    needed, not when the module is imported."""
    from werkzeug import security

    from oralhist.services import accounts

    checked = []
    real = security.check_password_hash
    monkeypatch.setattr(
        accounts, "check_password_hash", lambda h, p: checked.append(h) or real(h, p)
    )
    method = app.config["PASSWORD_HASH_METHOD"]
    with app.app_context():
        assert accounts.authenticate("nobody@example.org", "whatever-password") is None
        assert accounts.authenticate("nobody@example.org", "not-a-real-password") is None
    assert len(checked) == 2 and checked[0] == checked[1]
    assert checked[0].startswith(method.split(":")[0] + ":")
    assert accounts._dummy_hash.cache_info().currsize >= 1


def test_email_is_case_insensitive(app, users):
    Browser(app, "Researcher@EXAMPLE.org")


def test_logout_needs_post_with_csrf(app, users):
    client = Browser(app, "researcher@example.org")
    assert client.client.get("/logout").status_code == 405
    refused = client.client.post("/logout")
    assert refused.status_code == 400
    assert "CSRF" in refused.get_data(as_text=True)
    assert client.post("/logout", data={}).status_code == 302
    assert client.get("/account/").status_code == 302


def test_change_password(app, users):
    client = Browser(app, "researcher@example.org")
    bad = client.post(
        "/account/password",
        data={
            "current_password": "wrong one!!",
            "new_password": "another long one",
            "new_password_again": "another long one",
        },
    )
    assert bad.status_code == 422
    ok = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "another long one",
            "new_password_again": "another long one",
        },
    )
    assert ok.status_code == 302
    Browser(app).login("researcher@example.org", "another long one")


def test_open_redirect_is_refused(app, users):
    client = Browser(app)
    response = client.client.post(
        "/login?next=//evil.example/x",
        data={
            "email": "researcher@example.org",
            "password": PASSWORD,
            "csrf_token": client.token(),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_api_token_from_account_page(app, users):
    client = Browser(app, "contributor@example.org")
    page = client.post("/account/tokens", data={"name": "script"}).get_data(as_text=True)
    secret = re.search(r'id="new-token">([^<]+)<', page).group(1)
    api = app.test_client()
    response = api.get("/api/v1/interviews", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    created = api.post(
        "/api/v1/interviews",
        json={"title": "By token"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert created.status_code == 201, created.json
    with app.app_context():
        token = db.session.query(ApiToken).one()
        assert token.token_hash != secret and secret.startswith(token.prefix)
        assert token.last_used_at is not None  # recorded even for read-only requests
        token.revoked = True
        db.session.commit()
    revoked = api.get("/api/v1/interviews", headers={"Authorization": f"Bearer {secret}"})
    assert revoked.status_code == 401
    bogus = api.get("/api/v1/interviews", headers={"Authorization": "Bearer nope"})
    assert bogus.status_code == 401
    assert bogus.json["error"]["code"] == "unauthorized"
    assert bogus.headers["WWW-Authenticate"] == 'Bearer realm="oralhist", error="invalid_token"'


def test_cookie_api_writes_need_csrf(app, users):
    client = Browser(app, "contributor@example.org")
    refused = client.client.post("/api/v1/interviews", json={"title": "x"})
    assert refused.status_code == 400
    assert refused.json["error"]["message"]
    assert client.post("/api/v1/interviews", json={"title": "x"}).status_code == 201


def test_admin_changes_roles(app, users):
    admin = Browser(app, "admin@example.org")
    response = admin.post(f"/admin/users/{users['researcher']}/role", data={"role": "archivist"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, users["researcher"]).role == "archivist"
    bad = admin.post(f"/admin/users/{users['researcher']}/role", data={"role": "emperor"})
    assert bad.status_code == 422
    archivist = Browser(app, "archivist@example.org")
    assert (
        archivist.post(
            f"/admin/users/{users['contributor']}/role", data={"role": "admin"}
        ).status_code
        == 403
    )
