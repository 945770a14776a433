"""A module's world (``tests/savepoints.py``, ``world_app`` in ``tests/conftest.py``): built
once for the module, and every test starts from it as it was built, whatever the test before
it changed in the database, the search index or the media folder.

The three turns below each check the world's starting state first, then change all three
(a new published interview, the world's interview renamed, a recording added): whichever turn
runs later would see an earlier one's changes if the savepoint, the index copy or the media
copy failed (pytest keeps file order; under pytest-xdist ``--dist load`` turns may run in
different processes, each of which builds the world once)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from oralhist.extensions import db
from oralhist.models import Interview
from tests.conftest import ROLLBACK, Browser, world_scope
from tests.documents.conftest import wav_bytes

WORLD_TITLE = "Quillonmarsh weavers"


@pytest.fixture
def users(world_users):
    return world_users


@pytest.fixture(scope=world_scope)
def archive(world_app, world_users) -> dict:
    """One published open interview with a recording, made through the API."""
    archivist = Browser(world_app, "archivist@example.org")
    created = archivist.post("/api/v1/interviews", json={"title": WORLD_TITLE})
    assert created.status_code == 201, created.get_data(as_text=True)[:300]
    iid = created.json["id"]
    assert archivist.post(f"/api/v1/interviews/{iid}/publish").status_code == 200
    upload = archivist.post(
        f"/api/v1/interviews/{iid}/recordings",
        data={"file": (io.BytesIO(wav_bytes(1.0)), "world.wav")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201, upload.get_data(as_text=True)[:300]
    return {"interview": iid, "files": _stored(world_app)}


def _stored(app) -> list[str]:
    from oralhist.services.recordings import storage

    with app.app_context():
        return sorted(storage().iter_keys())


def _interviews(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Interview.title).order_by(Interview.id)))


def _found(client, word: str) -> bool:
    response = client.get(f"/api/v1/search?q={word}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.json["total"] > 0


@pytest.mark.parametrize("turn", ["turnone", "turntwo", "turnthree"])
def test_every_test_starts_from_the_world_as_built(app, archive, browser, request, turn):
    # The starting state: the world's rows, index and files, nothing of another turn.
    assert _interviews(app) == [WORLD_TITLE]
    anonymous = browser()
    assert _found(anonymous, "Quillonmarsh")
    for other in ("turnone", "turntwo", "turnthree"):
        assert not _found(anonymous, other), f"{other}'s interview is still indexed"
    assert _stored(app) == archive["files"]

    # Change all three.
    archivist = browser("archivist")
    created = archivist.post("/api/v1/interviews", json={"title": f"Interview {turn}"})
    new = created.json["id"]
    assert archivist.post(f"/api/v1/interviews/{new}/publish").status_code == 200
    upload = archivist.post(
        f"/api/v1/interviews/{new}/recordings",
        data={"file": (io.BytesIO(wav_bytes(1.5 + len(turn) / 10)), f"{turn}.wav")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201
    renamed = archivist.patch(
        f"/api/v1/interviews/{archive['interview']}", json={"title": f"Renamed {turn}"}
    )
    assert renamed.status_code == 200, renamed.get_data(as_text=True)[:300]
    assert _interviews(app) == [f"Renamed {turn}", f"Interview {turn}"]
    assert _found(anonymous, turn) and not _found(anonymous, "Quillonmarsh")
    assert len(_stored(app)) > len(archive["files"])
    # The world is held for the module (unless tests are not rolled back at all).
    held = request.getfixturevalue("world_app") is app
    assert held


def test_the_world_is_built_once_per_module(app, archive, request):
    """With rollback on, the world's app is the module's (its fixtures ran once); with
    ``OH_TEST_ROLLBACK=0`` each test builds it again on an app of its own."""
    fixture = request._fixturemanager.getfixturedefs("world_app", request.node)[-1]
    assert (fixture._scope.value if hasattr(fixture, "_scope") else fixture.scope) == (
        "module" if ROLLBACK else "function"
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Interview)) == 1
