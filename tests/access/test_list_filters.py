"""The policy's list filters (``oralhist.access.clauses``) against its predicates, for every
role and grant state of the matrix x every kind of interview (level, status, embargo), every
document level and every access request: the SQL selects exactly the rows the predicate
allows. Then the lists through HTTP, the suggestion rules, and the templates' plumbing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

import oralhist
from oralhist.access import clauses, now, policy
from oralhist.access.policy import Viewer
from oralhist.extensions import db
from oralhist.models import AccessRequest, Document, Interview

from .conftest import viewer
from .test_policy_matrix import LISTEN, ROLES, VIEW_RECORD

DOCUMENT_LEVELS = ("open", "registered", "restricted", "closed")


@pytest.fixture
def documents(app, people):
    """A document of every level by the archivist, and a closed one by ``contributor2``."""
    from oralhist.services import documents as svc

    made = {}
    with app.test_request_context():
        archivist = Viewer(user_id=people["archivist"], role="archivist")
        for level in DOCUMENT_LEVELS:
            made[level] = svc.save_document(
                archivist, {"title": f"Doc {level}", "access_level": level}
            ).id
        own = svc.save_document(archivist, {"title": "Doc own", "access_level": "closed"})
        own.created_by_id = people["contributor2"]
        made["own closed"] = own.id
        db.session.commit()
    return made


def _ids(criterion, model) -> set[int]:
    return set(db.session.scalars(select(model.id).where(criterion)))


def test_interview_filters_agree_with_the_predicates(app, people, interviews, states):
    mismatches = []
    with app.app_context():
        at = now()
        rows = db.session.scalars(select(Interview)).all()
        kind_of = {iid: kind for kind, iid in interviews.items()}
        for role, key in ROLES.items():
            who = viewer(people[key] if key else None)
            for name, clause, predicate in (
                (
                    "visible",
                    clauses.visible_interviews_clause(who),
                    lambda i, who=who: policy.can_view_record(who, i),
                ),
                (
                    "readable",
                    clauses.readable_interviews_clause(who, at),
                    lambda i, who=who: policy.can_read_transcript(who, i, at),
                ),
            ):
                by_sql = _ids(clause, Interview)
                by_rule = {i.id for i in rows if predicate(i)}
                if by_sql != by_rule:
                    mismatches.append((role, name, sorted(kind_of[i] for i in by_sql ^ by_rule)))
            # and both against the hand-written matrix
            visible = {kind_of[i] for i in _ids(clauses.visible_interviews_clause(who), Interview)}
            readable = {
                kind_of[i] for i in _ids(clauses.readable_interviews_clause(who, at), Interview)
            }
            if visible != VIEW_RECORD[role]:
                mismatches.append((role, "visible vs matrix", sorted(visible ^ VIEW_RECORD[role])))
            if readable != LISTEN[role]:
                mismatches.append((role, "readable vs matrix", sorted(readable ^ LISTEN[role])))
    assert mismatches == [], "\n".join(map(str, mismatches))


def test_the_readable_filter_follows_the_clock(app, people, interviews, states, clock):
    """An embargo ends on its date and an expired grant stops counting, in SQL as in Python."""
    import datetime as dt

    with app.app_context():
        for days in (-400, 0, 364, 365, 366, 800):
            clock.set(clock.now + dt.timedelta(days=days))
            at = now()
            for key in ("r_approved", "r_expired", "r_other", None):
                who = viewer(people[key] if key else None)
                rows = db.session.scalars(select(Interview)).all()
                expected = {i.id for i in rows if policy.can_read_transcript(who, i, at)}
                assert _ids(clauses.readable_interviews_clause(who, at), Interview) == expected
            clock.set(clock.now - dt.timedelta(days=days))


def test_document_filter_agrees_with_the_predicate(app, people, documents):
    with app.app_context():
        rows = db.session.scalars(select(Document)).all()
        for key in (None, "researcher", "contributor", "contributor2", "archivist", "admin"):
            who = viewer(people[key] if key else None)
            expected = {d.id for d in rows if policy.can_view_document(who, d)}
            assert _ids(clauses.visible_documents_clause(who), Document) == expected, key
        anonymous = _ids(clauses.visible_documents_clause(viewer(None)), Document)
        assert anonymous == {documents["open"]}
        own = _ids(clauses.visible_documents_clause(viewer(people["contributor2"])), Document)
        assert documents["own closed"] in own and documents["closed"] not in own


def test_request_filter_agrees_with_the_predicate(app, people, interviews, states):
    with app.app_context():
        rows = db.session.scalars(select(AccessRequest)).all()
        assert len(rows) >= 8
        for role, key in ROLES.items():
            who = viewer(people[key] if key else None)
            expected = {r.id for r in rows if policy.can_view_request(who, r)}
            assert _ids(clauses.visible_requests_clause(who), AccessRequest) == expected, role
            mine = {r.id for r in rows if key and r.requester_id == people[key]}
            assert _ids(clauses.visible_requests_clause(who, mine=True), AccessRequest) == mine


def test_interview_lists_show_what_the_filter_allows(app, people, interviews, states, login):
    """The page and the API list exactly the records of VIEW_RECORD, for every role."""
    titles = {f"Interview {kind}": kind for kind in interviews}
    mismatches = []
    for role, key in ROLES.items():
        client = login(key)
        api = client.get("/api/v1/interviews?per_page=100").json
        listed = {titles[i["title"]] for i in api["items"] if i["title"] in titles}
        page = client.get("/interviews?per_page=100").get_data(as_text=True)
        on_page = {kind for title, kind in titles.items() if f">{title}<" in page}
        for where, got in (("api", listed), ("page", on_page)):
            if got != VIEW_RECORD[role]:
                mismatches.append((role, where, sorted(got ^ VIEW_RECORD[role])))
    assert mismatches == [], "\n".join(map(str, mismatches))


#: Which interviews' passages each role is offered as suggestions (hand-written): where the
#: role may link passages, i.e. archivists everywhere and the depositing contributor on
#: their own interviews (every interview of the fixture is ``contributor``'s).
SUGGEST = {
    role: (
        frozenset(VIEW_RECORD[role])
        if role in ("contributor owner", "archivist", "admin")
        else frozenset()
    )
    for role in ROLES
}


def test_suggestion_rules_matrix(app, people, interviews, states):
    mismatches = []
    with app.app_context():
        for role, key in ROLES.items():
            who = viewer(people[key] if key else None)
            got = {
                kind
                for kind, iid in interviews.items()
                if policy.can_take_suggestion(who, db.session.get(Interview, iid))
            }
            if got != SUGGEST[role]:
                mismatches.append((role, sorted(got ^ SUGGEST[role])))
            sees = policy.can_see_suggestions(who)
            if sees != (
                role in ("contributor owner", "contributor not owner", "archivist", "admin")
            ):
                mismatches.append((role, "can_see_suggestions", sees))
            if policy.can_dismiss_suggestions(who) != (role in ("archivist", "admin")):
                mismatches.append((role, "can_dismiss_suggestions"))
    assert mismatches == [], "\n".join(map(str, mismatches))


def test_suggestions_through_http(app, people, interviews, states, login):
    """The suggestions API answers contributors and archivists only (anonymous callers are
    asked to authenticate: 401)."""
    from oralhist.services import documents as svc

    with app.test_request_context():
        archivist = Viewer(user_id=people["archivist"], role="archivist")
        doc = svc.save_document(archivist, {"title": "Mill strike", "access_level": "open"}).id
        db.session.commit()
    want = {None: 401, "researcher": 403, "r_approved": 403, "contributor2": 200}
    want |= {"contributor": 200, "archivist": 200}
    got = {key: login(key).get(f"/api/v1/documents/{doc}/suggestions").status_code for key in want}
    assert got == want


TEMPLATES = Path(oralhist.__file__).parent / "templates"


def test_templates_receive_booleans_not_the_policy(app):
    from oralhist.web.helpers import template_globals

    with app.test_request_context():
        given = template_globals()
    assert "policy" not in given and "viewer" not in given
    assert isinstance(given["may"], policy.SitePermissions)
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        code = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        if re.search(r"\bpolicy\.|\bviewer\.|\.grants\b", code):
            offenders.append(path.name)
    assert offenders == []
