"""One unit of work (issue 11 item 1): the request or the command commits once, at the edge;
any error rolls back; GET and HEAD never write; a commit refused by the database is a 409."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import func, select

from oralhist.errors import ValidationError
from oralhist.extensions import db
from oralhist.models import AuditEvent, Collection, Interview
from oralhist.transaction import request_unit, unit_of_work
from tests.conftest import Browser

#: The probe adds routes to its app: an app of its own (tests/savepoints.py).
pytestmark = pytest.mark.committing


PACKAGE = Path(__file__).resolve().parents[1] / "oralhist"


def _hand_made_transaction_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        func_ = node.func
        name = func_.attr if isinstance(func_, ast.Attribute) else getattr(func_, "id", None)
        if name in ("commit", "rollback"):
            found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {name}()")
    return found


def test_no_view_api_route_or_command_commits_or_rolls_back_by_hand():
    files = [*sorted((PACKAGE / "web").rglob("*.py")), PACKAGE / "cli.py"]
    assert len(files) > 10
    found = [call for path in files for call in _hand_made_transaction_calls(path)]
    assert found == []


def test_the_lint_finds_a_hand_made_commit(tmp_path):
    sample = PACKAGE / "web" / "_sample_for_the_lint.py"
    try:
        sample.write_text("def view():\n    db.session.commit()\n    rollback()\n")
        assert len(_hand_made_transaction_calls(sample)) == 2
    finally:
        sample.unlink()


def test_every_view_is_a_unit_of_work(app):
    unwrapped = [e for e, f in app.view_functions.items() if not getattr(f, "oh_unit_of_work", 0)]
    assert unwrapped == []


def collection_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Collection))


@pytest.fixture
def probe(app, users):
    """Routes that change the database and then end in various ways, and a signed-in
    browser to call them (anonymous writes are refused before any view runs)."""

    def add(slug: str) -> None:
        db.session.add(Collection(slug=slug, title=slug, description=""))
        db.session.flush()

    def ok():
        add("kept")
        return "saved", 201

    def refused():
        add("refused-status")
        return "no", 422

    def raises():
        add("raised")
        raise ValidationError("The title is missing.", fields={"title": "is required"})

    def duplicate():
        db.session.add(Collection(slug="kept", title="again", description=""))
        return "saved?", 201

    def flush_conflict():
        db.session.add(Collection(slug="kept", title="again", description=""))
        db.session.flush()
        return "saved?", 201

    def counted_refusal():
        from oralhist.transaction import keep_on_refusal

        add("refusal-record")
        keep_on_refusal()
        return "no", 429

    def read():
        db.session.add(Collection(slug="on-get", title="x", description=""))
        db.session.flush()
        return "read"

    for name, view, methods in (
        ("ok", ok, ["POST"]),
        ("refused", refused, ["POST"]),
        ("raises", raises, ["POST"]),
        ("duplicate", duplicate, ["POST"]),
        ("flush_conflict", flush_conflict, ["POST"]),
        ("counted_refusal", counted_refusal, ["POST"]),
        ("read", read, ["GET"]),
    ):
        app.add_url_rule(f"/_probe/{name}", f"probe_{name}", request_unit(view), methods=methods)
    return Browser(app, "archivist@example.org")


def test_errors_and_error_statuses_roll_back(app, probe):
    client = probe
    before = collection_count(app)
    assert client.post("/_probe/raises", data={}).status_code == 422
    assert client.post("/_probe/refused", data={}).status_code == 422
    assert collection_count(app) == before
    assert client.post("/_probe/ok", data={}).status_code == 201
    assert collection_count(app) == before + 1


def test_a_commit_refused_by_the_database_is_a_409_not_a_500(app, probe):
    client = probe
    assert client.post("/_probe/ok", data={}).status_code == 201
    response = client.post("/_probe/duplicate", data={})
    assert response.status_code == 409
    assert "conflicts with a change saved at the same moment" in response.get_data(as_text=True)
    assert collection_count(app) == 1


def test_a_constraint_hit_at_a_flush_is_a_409(app, probe):
    assert probe.post("/_probe/ok", data={}).status_code == 201
    assert probe.post("/_probe/flush_conflict", data={}).status_code == 409
    assert collection_count(app) == 1


def test_a_refusal_may_keep_its_own_record(app, probe):
    assert probe.post("/_probe/counted_refusal", data={}).status_code == 429
    assert collection_count(app) == 1


def test_a_get_that_writes_is_refused_and_keeps_nothing(app, probe):
    before = collection_count(app)
    response = probe.get("/_probe/read")
    assert response.status_code == 500
    assert collection_count(app) == before


def test_a_transcript_download_is_audited_by_a_get(app, browser):
    from oralhist.services import sample

    with app.app_context():
        sample.load_sample()
        db.session.commit()
        interview_id = db.session.scalar(select(func.min(Interview.id)))
    response = browser("archivist").get(f"/interviews/{interview_id}/transcript/download")
    assert response.status_code == 200
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "transcript.download" in actions


def test_a_command_unit_of_work_commits_once_or_rolls_back(app):
    with app.app_context():
        with unit_of_work():
            db.session.add(Collection(slug="one", title="One", description=""))
        with pytest.raises(ValidationError), unit_of_work():
            db.session.add(Collection(slug="two", title="Two", description=""))
            db.session.flush()
            raise ValidationError("no")
        slugs = db.session.scalars(select(Collection.slug)).all()
    assert slugs == ["one"]


def test_mail_and_files_follow_the_commit_not_the_rollback(app, tmp_path):
    from oralhist.transaction import on_commit, on_rollback

    ran: list[str] = []
    with app.app_context():
        with unit_of_work():
            on_commit(lambda: ran.append("commit 1"))
            on_rollback(lambda: ran.append("rollback 1"))
        with pytest.raises(RuntimeError), unit_of_work():
            on_commit(lambda: ran.append("commit 2"))
            on_rollback(lambda: ran.append("rollback 2"))
            raise RuntimeError("boom")
    assert ran == ["commit 1", "rollback 2"]


def test_a_released_savepoint_hands_nothing_on_before_the_real_commit(app, monkeypatch):
    """SQLAlchemy fires ``after_commit`` when a SAVEPOINT is released (the accession retry
    uses one): index work, callbacks and mail wait for the outermost commit. Handing them on
    at the savepoint made the indexer's own connection wait for the write lock the request
    still held (30 s per new interview on SQLite)."""
    from oralhist.models import IndexTask
    from oralhist.services import indexing
    from oralhist.transaction import on_commit

    applied: list[int] = []
    monkeypatch.setattr(indexing, "process_pending", lambda *a, **k: applied.append(1) or 0)
    ran: list[str] = []
    with app.app_context():
        with unit_of_work():
            on_commit(lambda: ran.append("commit"))
            with db.session.begin_nested():
                db.session.add(Interview(title="Nested", accession="OH-N-1", status="draft"))
            assert applied == [] and ran == []
            assert db.session.scalar(select(func.count()).select_from(IndexTask)) == 1
        assert applied == [1]
        assert ran == ["commit"]
