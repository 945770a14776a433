"""The test session itself (``tests/savepoints.py``): each test runs inside a transaction that
is rolled back, yet sees what a real commit hands on (index work, files, mail); tests that
need real commits get an app and database of their own.

The two ``test_leaves_nothing_*`` tests each commit a row through a request and through a
service, and each first checks that it starts from empty tables: whichever runs second
would see the other's rows if the rollback failed (pytest keeps file order; under
pytest-xdist ``--dist load`` they may run in different processes, where each still checks
that the process's earlier tests left nothing)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from oralhist.extensions import db
from oralhist.models import Interview, User
from oralhist.transaction import unit_of_work
from tests.conftest import PASSWORD, ROLLBACK, Browser


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(User)),
            db.session.scalar(select(func.count()).select_from(Interview)),
        )


def _publish(client, title: str) -> int:
    """An open interview made and published through the API (each request one commit)."""
    created = client.post("/api/v1/interviews", json={"title": title, "access_level": "open"})
    assert created.status_code == 201, created.get_data(as_text=True)[:400]
    published = client.post(f"/api/v1/interviews/{created.json['id']}/publish")
    assert published.status_code == 200
    return created.json["id"]


@pytest.mark.parametrize("marker", ["leftoverone", "leftovertwo"])
def test_leaves_nothing_for_the_next_test(app, marker):
    assert _counts(app) == (0, 0), "an earlier test's rows are still there"
    from oralhist.services import accounts

    with app.app_context(), unit_of_work():  # committed as a command would
        accounts.create_user(f"{marker}@example.org", PASSWORD, role="archivist")
    _publish(Browser(app, f"{marker}@example.org"), f"Interview {marker}")
    assert _counts(app) == (1, 1)


def test_a_commit_hands_on_index_work(app, browser):
    """A request's commit inside the test's transaction still updates the search index (the
    after-commit hand-on), so a search right after it finds the new interview."""
    _publish(browser("archivist"), "Zanzibarquux harbour")
    page = browser().get("/search?q=Zanzibarquux").get_data(as_text=True)
    assert "Zanzibarquux harbour" in page


def test_the_rolled_back_app_is_shared_and_its_configuration_put_back(app, request):
    """Rolled-back tests share one app; a configuration change of one test is gone in the
    next (``savepoints._prepare``)."""
    if not ROLLBACK:
        pytest.skip("OH_TEST_ROLLBACK=0: every test has an app of its own")
    assert app.config.get("SUITE_ISOLATION_PROBE") is None
    app.config["SUITE_ISOLATION_PROBE"] = request.node.name
    assert str(request.getfixturevalue("tmp_path")) in app.config["MEDIA_ROOT"]
    with app.app_context():
        assert db.session.connection().in_nested_transaction()


def test_the_configuration_change_is_gone(app):
    assert app.config.get("SUITE_ISOLATION_PROBE") is None


@pytest.mark.committing
def test_a_committing_test_has_an_app_of_its_own(app, users, tmp_path):
    """The ``committing`` marker: a fresh app on the test's own database, really committed
    (another connection sees the rows)."""
    assert str(tmp_path) in app.config["MEDIA_ROOT"]
    with app.app_context():
        assert not db.session.connection().in_nested_transaction()
        with db.engine.connect() as other:
            assert other.scalar(select(func.count()).select_from(User)) == len(users)
