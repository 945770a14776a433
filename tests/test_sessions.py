"""Sessions end on sign-out and on a password change (a per-user session generation), and
sign-in attempts are rate limited per account, per address and per known device, with
counts kept in the database (shared by every worker)."""

from __future__ import annotations

import datetime as dt

import pytest

from .conftest import PASSWORD, Browser

#: Failed sign-ins are counted in transactions of their own, which must outlive the refused
#: request's rollback: real commits (tests/savepoints.py).
pytestmark = pytest.mark.committing


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr("oralhist.access.clock", c)
    return c


def _copy_session(app, source: Browser) -> Browser:
    """A second client carrying a copy of ``source``'s session cookie (a stolen cookie)."""
    copy = Browser(app)
    copy.client.set_cookie("session", source.client.get_cookie("session").value)
    return copy


def _signed_in(client: Browser) -> bool:
    return client.get("/account/").status_code == 200


# --- sessions ------------------------------------------------------------------------------


def test_a_copied_cookie_stops_working_after_sign_out(app, users):
    owner = Browser(app, "researcher@example.org")
    thief = _copy_session(app, owner)
    assert _signed_in(thief)
    assert owner.post("/logout").status_code == 302
    assert not _signed_in(owner)
    assert not _signed_in(thief)
    assert thief.get("/account/").headers["Location"].startswith("/login")


def test_a_password_change_ends_every_other_session(app, users):
    laptop = Browser(app, "researcher@example.org")
    phone = Browser(app, "researcher@example.org")
    copy = _copy_session(app, laptop)
    response = laptop.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a brand new secret",
            "new_password_again": "a brand new secret",
        },
    )
    assert response.status_code == 302
    assert _signed_in(laptop)  # the session that changed it goes on
    assert not _signed_in(phone)
    assert not _signed_in(copy)
    Browser(app).login("researcher@example.org", "a brand new secret")


def test_a_remember_me_cookie_ends_with_the_sessions(app, users):
    client = Browser(app)
    response = client.client.post(
        "/login",
        data={
            "email": "researcher@example.org",
            "password": PASSWORD,
            "remember": "1",
            "csrf_token": client.token(),
        },
    )
    assert response.status_code == 302
    remember = client.client.get_cookie("remember_token").value
    other = Browser(app, "researcher@example.org")
    other.post("/logout")
    fresh = Browser(app)
    fresh.client.set_cookie("remember_token", remember)
    assert not _signed_in(fresh)


def test_a_failed_password_change_keeps_the_sessions(app, users):
    laptop = Browser(app, "researcher@example.org")
    phone = Browser(app, "researcher@example.org")
    response = laptop.post(
        "/account/password",
        data={
            "current_password": "wrong",
            "new_password": "x" * 12,
            "new_password_again": "x" * 12,
        },
    )
    assert response.status_code == 422
    assert _signed_in(laptop) and _signed_in(phone)


# --- sign-in rate limiting -----------------------------------------------------------------


def _attempt(client: Browser, email: str, password: str, **kw):
    return client.client.post(
        "/login", data={"email": email, "password": password, "csrf_token": client.token()}, **kw
    )


def test_an_account_is_locked_after_repeated_failures_then_let_in(app, users, clock):
    attacker = Browser(app)
    email = "archivist@example.org"
    statuses = [_attempt(attacker, email, f"guess {n}").status_code for n in range(6)]
    assert statuses == [401] * 6
    locked = _attempt(attacker, email, PASSWORD)  # even the right password waits
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["Retry-After"]) <= 30
    assert "Too many failed attempts" in locked.get_data(as_text=True)
    clock.advance(seconds=31)
    assert _attempt(attacker, email, PASSWORD).status_code == 302


def test_the_lock_doubles_but_never_exceeds_its_maximum(app, users, clock):
    attacker = Browser(app)
    waits = []
    for n in range(24):
        response = _attempt(attacker, "admin@example.org", f"guess {n}")
        if response.status_code == 429:
            waits.append(int(response.headers["Retry-After"]))
            clock.advance(seconds=waits[-1])
    assert waits == sorted(waits) and len(waits) >= 3
    assert max(waits) == app.config["SIGNIN_LOCK_MAX_S"]


def test_a_known_browser_is_not_locked_out_by_guessing_elsewhere(app, users, clock):
    owner = Browser(app, "contributor@example.org")  # signs in: gets the device cookie
    owner.post("/logout")
    for n in range(12):  # someone else guesses from other addresses
        guess = _attempt(
            Browser(app),
            "contributor@example.org",
            f"guess {n}",
            environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
        )
        assert guess.status_code in (401, 429)
    stranger = Browser(app)
    blocked = _attempt(stranger, "contributor@example.org", PASSWORD)
    assert blocked.status_code == 429  # an unknown browser waits
    owner.csrf = None
    assert _attempt(owner, "contributor@example.org", PASSWORD).status_code == 302


def test_an_address_is_limited_across_accounts(app, users, clock):
    guesser = Browser(app)
    free = app.config["SIGNIN_FREE_FAILURES"]["address"]
    for n in range(free + 1):
        assert _attempt(guesser, f"nobody{n}@example.org", "wrong pw").status_code == 401
    assert _attempt(guesser, "someone-else@example.org", "wrong pw").status_code == 429
    other_address = _attempt(
        Browser(app), "researcher@example.org", PASSWORD, environ_base={"REMOTE_ADDR": "10.9.8.7"}
    )
    assert other_address.status_code == 302


def test_counts_are_shared_by_every_worker(app, users, clock):
    """Two application instances on one database (two gunicorn workers) share the counts."""
    email = "researcher@example.org"
    for n in range(3):
        assert _attempt(Browser(app), email, f"guess {n}").status_code == 401
    from oralhist import create_app

    keys = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "MEDIA_ROOT", "SEARCH_INDEX_DIR")
    second = create_app(
        {
            **{key: app.config[key] for key in keys},
            "OUTBOX_DIR": app.config["OUTBOX_DIR"],
            "SERVER_NAME": "localhost",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        },
        instance_path=app.instance_path,
    )
    for n in range(3):
        assert _attempt(Browser(second), email, f"guess {n}").status_code == 401
    assert _attempt(Browser(app), email, PASSWORD).status_code == 429
    with second.app_context():
        from oralhist.extensions import db

        db.engine.dispose()


def test_sign_up_is_limited_per_address(app, clock):
    client = Browser(app)
    limit = app.config["SIGNIN_FREE_FAILURES"]["signup"]
    for n in range(limit):
        response = client.post(
            "/signup",
            data={"email": "bad", "password": "x", "password_again": "y", "name": str(n)},
        )
        assert response.status_code == 422
    bad = {"email": "bad", "password": "x", "password_again": "y"}
    assert client.post("/signup", data=bad).status_code == 422  # one over: counted, locks
    response = client.post("/signup", data=bad)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def test_old_counts_are_forgotten(app, users, clock):
    from oralhist.services import throttle

    for n in range(7):
        _attempt(Browser(app), "researcher@example.org", f"guess {n}")
    with app.app_context():
        assert throttle.forget_old() == 0  # still locked, and recent
        clock.advance(hours=2)
        assert throttle.forget_old() == 2  # the account's and the address's counts
    assert _attempt(Browser(app), "researcher@example.org", PASSWORD).status_code == 302
