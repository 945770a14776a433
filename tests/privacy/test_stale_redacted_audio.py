"""Silenced copies that no redaction in force calls for any more (changed, lifted) are
forgotten by the worker's ``redacted audio`` duty: their rows go, and their files once
nothing else uses them; the copy still wanted stays."""

from __future__ import annotations

from oralhist.extensions import db
from oralhist.models import RedactedAudio

from ..consent.conftest import archive, clock  # noqa: F401
from ..consent.test_redacted_audio import make_copies, recorded  # noqa: F401


def _copies(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(c.spans_hash, c.storage_key) for c in db.session.query(RedactedAudio)]


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
    (first,) = _copies(app)
    assert archivist.patch(f"/api/v1/redactions/{rid}", json={"end_ms": 2500}).status_code == 200
    said = _duty(app)
    assert said is not None and "1 stale" in said and "1 redacted audio copies made" in said
    (second,) = _copies(app)
    assert second[0] != first[0]
    with app.app_context():
        assert not storage().exists(first[1]) and storage().exists(second[1])
    assert _duty(app) is None  # nothing stale, nothing missing: the wanted copy stays
    assert archivist.delete(f"/api/v1/redactions/{rid}").status_code == 204
    assert "1 stale" in (_duty(app) or "")
    assert _copies(app) == []
    with app.app_context():
        assert not storage().exists(second[1])
