"""The navigation (#15): Deposit for depositors, the archivists' queue with its pending count
and the review queue with its count, a badge of unread notifications (decisions on one's
access requests); all counts in one query per page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from oralhist.extensions import db

FORM = {
    "purpose": "Family history of dockworkers in the 1950s.",
    "intended_use": "research",
    "agree_terms": True,
}


@pytest.fixture
def restricted(browser):
    owner = browser("contributor")
    iid = owner.post(
        "/api/v1/interviews", json={"title": "Closed door", "access_level": "restricted"}
    ).json["id"]
    browser("archivist").post(f"/api/v1/interviews/{iid}/publish")
    return iid


def nav_of(page: str) -> str:
    return re.search(r'<nav class="bar".*?</nav>', page, re.S).group(0)


@pytest.mark.parametrize(
    ("role", "deposit", "queue", "review"),
    [
        (None, False, False, False),
        ("researcher", False, False, False),
        ("contributor", True, False, False),
        ("archivist", True, True, True),
        ("admin", True, True, True),
    ],
)
def test_links_per_role(app, browser, role, deposit, queue, review):
    nav = nav_of(browser(role).get("/").get_data(as_text=True))
    assert ('href="/deposit">Deposit</a>' in nav) is deposit
    assert ('href="/access/queue">Queue' in nav) is queue
    assert ('href="/review">Review' in nav) is review


def test_a_decision_shows_a_badge_to_the_requester_and_the_queue_counts(app, browser, restricted):
    researcher, archivist = browser("researcher"), browser("archivist")
    assert (
        'class="count"'
        not in nav_of(archivist.get("/").get_data(as_text=True)).split("Queue")[1].split("</a>")[0]
    )
    rid = researcher.post(f"/api/v1/interviews/{restricted}/access-requests", json=FORM).json["id"]
    queue_link = re.search(
        r'href="/access/queue">Queue(.*?)</a>', archivist.get("/").get_data(as_text=True)
    )
    assert '>1<span class="sr"> pending</span>' in queue_link.group(1)
    assert 'class="count"' not in nav_of(researcher.get("/").get_data(as_text=True))
    archivist.post(f"/api/v1/access-requests/{rid}/approve", json={"scope": "listen"})
    nav = nav_of(researcher.get("/").get_data(as_text=True))
    assert '1<span class="sr"> unread notifications</span>' in nav
    queue_link = re.search(
        r'href="/access/queue">Queue(.*?)</a>', archivist.get("/").get_data(as_text=True)
    )
    assert "count" not in queue_link.group(1)
    researcher.post("/account/notifications/read", data={})
    assert 'class="count"' not in nav_of(researcher.get("/").get_data(as_text=True))


# Committing: it counts statements with an engine event, which a listener added mid-test does
# not see on the rolled-back test's already open PostgreSQL connection (tests/savepoints.py).
@pytest.mark.committing
@pytest.mark.parametrize("role", [None, "researcher", "contributor", "archivist"])
def test_the_counts_cost_one_query_per_page(app, browser, restricted, role):
    client = browser(role)
    if role == "researcher":
        client.post(f"/api/v1/interviews/{restricted}/access-requests", json=FORM)
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        page = client.get("/interviews").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    nav_queries = [s for s in statements if "notification" in s]
    assert len(nav_queries) == (0 if role is None else 1), nav_queries
    if role == "archivist":
        (query,) = nav_queries
        assert "access_request" in query and "review_requested_at" in query
    assert "<nav" in page
