"""Silenced copies that no redaction in force calls for any more (changed, lifted) are
forgotten by the worker's ``redacted audio`` duty: their rows go, and their files once
nothing else uses them; the copy still wanted stays."""

from __future__ import annotations

from oralhist.extensions import db
from oralhist.models import Derivative
from oralhist.services.redacted_audio import KINDS

from ..consent.conftest import archive, clock  # noqa: F401
from ..consent.test_redacted_audio import make_copies, recorded  # noqa: F401


def _copies(app) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.query(Derivative).filter(Derivative.kind.in_(KINDS))
        return sorted((c.kind, c.params_hash, c.storage_key) for c in rows)


def _duty(app) -> str | None:
    from oralhist.worker import _make_redacted_audio

    with app.app_context():
        return _make_redacted_audio()


def test_changed_and_lifted_redactions_leave_no_copy_behind(app, browser, archive, recorded):  # noqa: F811
    from oralhist.services.recordings import storage

    iid = archive["interview"]
    archivist = browser("archivist")
    rid = archivist.post(
        f"/api/v1/interviews/{iid}/redactions",
        json={"start_ms": 1000, "end_ms": 2000, "reason": "r"},
    ).json["id"]
    make_copies(app)
    first = _copies(app)
    assert [kind for kind, _, _ in first] == list(KINDS)
    assert archivist.patch(f"/api/v1/redactions/{rid}", json={"end_ms": 2500}).status_code == 200
    said = _duty(app)  # the patch queued the new copies itself: the duty only forgets
    assert said is not None and "2 stale" in said
    make_copies(app)
    second = _copies(app)
    assert len(second) == 2 and {h for _, h, _ in second}.isdisjoint({h for _, h, _ in first})
    with app.app_context():
        assert not any(storage().exists(key) for _, _, key in first)
        assert all(storage().exists(key) for _, _, key in second)
    assert _duty(app) is None  # nothing stale, nothing missing: the wanted copies stay
    assert archivist.delete(f"/api/v1/redactions/{rid}").status_code == 204
    assert "2 stale" in (_duty(app) or "")
    assert _copies(app) == []
    with app.app_context():
        assert not any(storage().exists(key) for _, _, key in second)


def test_the_duty_queues_a_copy_still_missing(app, browser, archive, recorded):  # noqa: F811
    from oralhist.models import Job

    iid = archive["interview"]
    browser("archivist").post(
        f"/api/v1/interviews/{iid}/redactions",
        json={"start_ms": 1000, "end_ms": 2000, "reason": "r"},
    )
    with app.app_context():  # the jobs the redaction queued were lost (cancelled, say)
        for job in db.session.query(Job).filter(Job.kind.like("derivative.redacted-%")):
            db.session.delete(job)
        db.session.commit()
    said = _duty(app)
    assert said is not None and "2 redacted audio copies queued" in said
    assert make_copies(app) == 2 and len(_copies(app)) == 2
