"""Drafts submitted for review (#15): the contributor submits (audited, archivists told), the
archivists' review queue lists it with a count in the navigation, publishing takes it off."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from oralhist.extensions import db
from oralhist.models import AuditEvent, Interview, Notification, User


@pytest.fixture
def draft(browser):
    return browser("contributor").post("/api/v1/interviews", json={"title": "Review me"}).json["id"]


def test_submit_for_review_tells_the_archivists_and_fills_the_queue(app, browser, users, draft):
    owner = browser("contributor")
    page = owner.get(f"/interviews/{draft}").get_data(as_text=True)
    assert "Submit for review" in page
    response = owner.post(f"/interviews/{draft}/review", data={"action": "submit"})
    assert response.status_code == 302
    page = owner.get(f"/interviews/{draft}").get_data(as_text=True)
    assert "awaiting review" in page and "Withdraw from review" in page
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "interview.review_requested")
        )
        assert event.user_id == users["contributor"] and event.object_id == draft
        told = {
            n.user_id
            for n in db.session.scalars(select(Notification))
            if "ready for review" in n.message
        }
        staff = set(
            db.session.scalars(select(User.id).where(User.role.in_(("archivist", "admin"))))
        )
        assert told == staff
    archivist = browser("archivist")
    queue = archivist.get("/review").get_data(as_text=True)
    assert "Review me" in queue and "Contributor" in queue
    home = archivist.get("/").get_data(as_text=True)
    assert 'href="/review">Review <span class="count"' in home
    assert owner.post(f"/interviews/{draft}/review", data={"action": "submit"}).status_code == 409
    archivist.post(f"/interviews/{draft}/publish", data={"action": "publish"})
    with app.app_context():
        assert db.session.get(Interview, draft).review_requested_at is None
        (told,) = db.session.scalars(
            select(Notification).where(Notification.user_id == users["contributor"])
        ).all()
        assert "reviewed and published" in told.message
    assert "Review me" not in archivist.get("/review").get_data(as_text=True)
    assert 'href="/review">Review</a>' in archivist.get("/").get_data(as_text=True)


def test_withdraw_takes_it_off_the_queue(app, browser, draft):
    owner = browser("contributor")
    owner.post(f"/interviews/{draft}/review", data={"action": "submit"})
    assert owner.post(f"/interviews/{draft}/review", data={"action": "withdraw"}).status_code == 302
    with app.app_context():
        assert db.session.get(Interview, draft).review_requested_at is None
        actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
        assert actions[-2:] == ["interview.review_requested", "interview.review_withdrawn"]
    assert "Review me" not in browser("archivist").get("/review").get_data(as_text=True)
    assert owner.post(f"/interviews/{draft}/review", data={"action": "withdraw"}).status_code == 409


@pytest.mark.parametrize(
    ("role", "status"),
    [(None, 302), ("researcher", 404), ("contributor2", 404), ("archivist", 403)],
)
def test_only_the_drafts_contributor_submits_it(app, browser, draft, role, status):
    response = browser(role).post(f"/interviews/{draft}/review", data={"action": "submit"})
    assert response.status_code == status
    with app.app_context():
        assert db.session.get(Interview, draft).review_requested_at is None


@pytest.mark.parametrize(
    ("role", "status"),
    [(None, 302), ("researcher", 403), ("contributor", 403), ("archivist", 200), ("admin", 200)],
)
def test_the_review_queue_is_for_archivists(app, browser, role, status):
    assert browser(role).get("/review").status_code == status


def test_a_published_interview_offers_no_review(app, browser, draft):
    browser("archivist").post(f"/interviews/{draft}/publish", data={"action": "publish"})
    page = browser("contributor").get(f"/interviews/{draft}").get_data(as_text=True)
    assert "Submit for review" not in page


@pytest.mark.parametrize(
    ("level", "later"),
    [
        ("open", "will be open to everyone once it is published"),
        ("restricted", "will be available on request once it is published"),
    ],
)
def test_a_draft_page_says_what_is_true_for_a_draft(app, browser, level, later):
    owner = browser("contributor")
    iid = owner.post("/api/v1/interviews", json={"title": "Draft", "access_level": level}).json[
        "id"
    ]
    for role in ("contributor", "archivist"):
        page = browser(role).get(f"/interviews/{iid}").get_data(as_text=True)
        assert "This is a draft, seen only by its contributor and archivists." in page
        assert later in page
        assert "are open to everyone" not in page
    browser("archivist").post(f"/interviews/{iid}/publish", data={"action": "publish"})
    published = browser(None).get(f"/interviews/{iid}").get_data(as_text=True)
    assert "This is a draft" not in published
