"""Fixtures for the access tests: a movable clock, extra researchers in every request state,
and one interview of every kind (open, registered, restricted, closed, embargoed, draft)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from oralhist.extensions import db
from tests.conftest import PASSWORD, Browser, world_scope

T0 = dt.datetime(2031, 6, 15, 12, 0, tzinfo=dt.UTC)

#: Extra researchers, one per request state (the matrix's rows).
STATE_USERS = ("pending", "approved", "expired", "revoked", "denied", "withdrawn", "other")

KINDS = (
    "open",
    "registered",
    "restricted",
    "closed",
    "embargo_future",
    "embargo_past",
    "draft",
)


class Clock:
    """The app clock, frozen at ``now`` until moved."""

    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, when: dt.datetime) -> None:
        self.now = when

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    c = Clock(T0)
    monkeypatch.setattr("oralhist.access.clock", c)
    return c


def viewer(role_or_id):
    """The Viewer of a user id (None -> anonymous), built fresh from the database."""
    from oralhist.access import load_viewer
    from oralhist.access.policy import ANONYMOUS
    from oralhist.models import User

    if role_or_id is None:
        return ANONYMOUS
    return load_viewer(db.session.get(User, role_or_id))


def make_interview(owner_id: int, title: str, **attrs):
    from oralhist.services import catalogue

    interview = catalogue.save_interview(viewer(owner_id), {"title": title})
    for key, value in attrs.items():
        setattr(interview, key, value)
    db.session.flush()
    return interview


@pytest.fixture
def people(app, users):
    """``users`` plus one researcher per request state (keys ``r_pending`` ...)."""
    return make_people(app, users)


@pytest.fixture
def interviews(app, people, clock):
    """One interview of each kind (all deposited by ``contributor``), ids by kind."""
    return make_interviews(app, people)


@pytest.fixture
def states(app, people, interviews, clock):
    """Requests in every state (``make_states``)."""
    return make_states(app, people, interviews, clock)


@pytest.fixture(scope=world_scope)
def access_world(world_app, world_users) -> tuple[dict, dict, dict]:
    """``(people, interviews, states)`` made once for a module that takes them as its world
    (tests/savepoints.py), at the same clock times as the fixtures; such a module overrides
    ``users``, ``people``, ``interviews`` and ``states`` (each test still asks for ``clock``,
    which sets the time to T0 for it)."""
    with pytest.MonkeyPatch.context() as patch:
        c = Clock(T0)
        patch.setattr("oralhist.access.clock", c)
        people = make_people(world_app, world_users)
        interviews = make_interviews(world_app, people)
        return people, interviews, make_states(world_app, people, interviews, c)


@pytest.fixture(scope=world_scope)
def material_world(access_world, world_app) -> tuple[dict, dict, dict, dict]:
    """``access_world`` with a recording and a transcript on every interview
    (``test_material_matrix.make_material``), once for a module that takes them as its world
    (it overrides ``users``, ``people``, ``interviews``, ``states`` and ``material``)."""
    from .test_material_matrix import make_material

    people, interviews, states = access_world
    return people, interviews, states, make_material(world_app, people, interviews)


def make_people(app, users) -> dict[str, int]:
    from oralhist.services import accounts

    made = dict(users)
    with app.app_context():
        for state in STATE_USERS:
            user = accounts.create_user(
                f"r_{state}@example.org", PASSWORD, role="researcher", name=f"R {state}"
            )
            made[f"r_{state}"] = user.id
        db.session.commit()
    return made


def make_interviews(app, people) -> dict[str, int]:
    """One interview of each kind (all deposited by ``contributor``), ids by kind."""
    today = T0.date()
    specs = {
        "open": {"access_level": "open"},
        "registered": {"access_level": "registered"},
        "restricted": {"access_level": "restricted"},
        "closed": {"access_level": "closed"},
        "embargo_future": {
            "access_level": "restricted",
            "embargo_until": today + dt.timedelta(days=365),
        },
        "embargo_past": {
            "access_level": "restricted",
            "embargo_until": today - dt.timedelta(days=365),
        },
        "draft": {"access_level": "restricted", "status": "draft"},
    }
    ids = {}
    with app.test_request_context():
        for kind, attrs in specs.items():
            status = attrs.pop("status", "published")
            found = make_interview(
                people["contributor"],
                f"Interview {kind}",
                rights_statement=f"Rights for {kind}: cite the archive.",
                status=status,
                **attrs,
            )
            ids[kind] = found.id
        db.session.commit()
    return ids


def make_states(app, people, interviews, clock) -> dict[str, int]:
    """Requests in every state, made through the service 30 days before T0:

    r_pending: pending on restricted; r_approved: approved on restricted (listen+download),
    on embargo_past (listen), and on embargo_future (approved before the embargo: must not
    open it); r_expired: approved on restricted, expired 10 days before T0; r_revoked,
    r_denied, r_withdrawn: on restricted; r_other: approved on embargo_past only.
    """
    from oralhist.models import AccessRequest, Interview
    from oralhist.services import access_requests as svc

    purpose = "A study of post-war labour organising in the valley."
    form = {"purpose": purpose, "intended_use": "research", "agree_terms": "1"}
    clock.set(T0 - dt.timedelta(days=30))
    archivist = people["archivist"]
    made: dict[str, int] = {}
    with app.test_request_context():

        def ask(user: str, kind: str) -> AccessRequest:
            interview = db.session.get(Interview, interviews[kind])
            return svc.create_request(viewer(people[user]), interview, form)

        def decide(req, action, **data):
            return svc.decide(viewer(archivist), req, action, data)

        made["pending"] = ask("r_pending", "restricted").id
        made["approved"] = decide(
            ask("r_approved", "restricted"), "approve", scope="listen_download"
        ).id
        made["approved_past"] = decide(ask("r_approved", "embargo_past"), "approve").id
        made["expired"] = decide(
            ask("r_expired", "restricted"),
            "approve",
            expires_at=(T0 - dt.timedelta(days=10)).date().isoformat(),
        ).id
        made["revoked"] = decide(decide(ask("r_revoked", "restricted"), "approve"), "revoke").id
        made["denied"] = decide(
            ask("r_denied", "restricted"), "deny", reason="Not enough detail."
        ).id
        withdrawn = ask("r_withdrawn", "restricted")
        svc.decide(viewer(people["r_withdrawn"]), withdrawn, "withdraw")
        made["withdrawn"] = withdrawn.id
        made["other"] = decide(ask("r_other", "embargo_past"), "approve").id
        # An approval granted before the embargo was set (the embargo must win).
        future = AccessRequest(
            requester_id=people["r_approved"],
            interview_id=interviews["embargo_future"],
            purpose=purpose,
            intended_use="research",
            agreed_terms=True,
            status="approved",
            scope="listen_download",
            created_at=T0 - dt.timedelta(days=400),
        )
        db.session.add(future)
        db.session.commit()
        made["approved_future"] = future.id
    clock.set(T0)
    return made


@pytest.fixture
def login(app, people):
    """``login("r_approved")`` -> a signed-in Browser; None -> anonymous."""

    def make(who: str | None) -> Browser:
        if who is None:
            return Browser(app)
        return Browser(app, f"{who}@example.org")

    return make


def outbox(app) -> list[Path]:
    folder = Path(app.config["OUTBOX_DIR"])
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def read_mails(app) -> list:
    from email import policy
    from email.parser import BytesParser

    return [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in outbox(app)]
