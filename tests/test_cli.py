"""The command line: init on an empty folder, users, tokens, the sample archive."""

from __future__ import annotations

import os

import pytest

from oralhist import create_app


class Project:
    """An empty project folder and a way to build the app on it (closed after the test)."""

    def __init__(self, path, make_app):
        self.path = path
        self.make_app = make_app

    def __truediv__(self, other):
        return self.path / other


@pytest.fixture
def made_apps():
    """Apps the test builds; their database connections are closed afterwards."""
    apps = []
    yield apps
    for app in apps:
        with app.app_context():
            from oralhist.extensions import db

            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def fresh(tmp_path, monkeypatch, made_apps):
    """An app on an empty project folder, configured only as a user would (no create_all)."""
    monkeypatch.chdir(tmp_path)
    url = os.environ.get("OH_TEST_DATABASE_URL")
    if url:
        monkeypatch.setenv("OH_SQLALCHEMY_DATABASE_URI", url)
        reset = create_app(instance_path=str(tmp_path / "instance"))
        with reset.app_context():
            from sqlalchemy import text

            from oralhist.extensions import db

            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.engine.dispose()

    def make():
        app = create_app(instance_path=str(tmp_path / "instance"))
        made_apps.append(app)
        return app

    return Project(tmp_path, make)


def run(app, *args, input=None):
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_init_then_sample_gives_a_browsable_archive(fresh):
    app = fresh.make_app()
    output = run(app, "init")
    assert "Wrote a new secret key" in output
    config_text = (fresh / "instance" / "config.py").read_text()
    assert "SECRET_KEY" in config_text
    assert "PUBLIC_BASE_URL = 'http://127.0.0.1:5000'" in config_text
    assert oct((fresh / "instance" / "config.py").stat().st_mode)[-3:] == "600"
    assert "Wrote a new secret key" not in run(app, "init")  # safe to run again

    app = fresh.make_app()  # reads the written key
    assert not app.config.get("OH_EPHEMERAL_SECRET")
    assert app.config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    assert app.test_client().get("/", headers={"Host": "evil.example"}).status_code == 400
    assert "Loaded the sample" in run(app, "load-sample")
    assert "loaded already" in run(app, "load-sample")
    assert "has interviews already" in run(app, "load-sample", "--if-empty")
    client = app.test_client()
    home = client.get("/").get_data(as_text=True)
    assert "Voices of the 1956 Crisis (sample)" in home
    listing = client.get("/api/v1/interviews").json
    assert listing["total"] == 3
    first = next(i for i in listing["items"] if i["accession"] == "OH-SAMPLE-001")
    page = client.get(f"/interviews/{first['id']}").get_data(as_text=True)
    assert "fictional" in page.lower()
    assert "Thomas Whitfield" in page
    # The sample plays, has its time-coded transcript with both speakers, an index, and a
    # document linked to two passages; and search finds its words.
    recording = first["recordings"][0]
    assert 195_000 < recording["duration_ms"] < 205_000
    audio = client.get(recording["audio_url"], headers={"Range": "bytes=0-99"})
    assert audio.status_code == 206 and audio.headers["Content-Type"] == "audio/mpeg"
    assert len(audio.get_data()) == 100
    audio.close()
    transcript = client.get(f"/api/v1/interviews/{first['id']}/transcript").json
    assert len(transcript["segments"]) > 50
    assert {s["speaker"] for s in transcript["segments"]} == {"Dr. Ruth Adler", "Thomas Whitfield"}
    assert len(transcript["index"]) == 3
    documents = client.get("/api/v1/documents").json["items"]
    pamphlet = next(d for d in documents if d["title"] == "Why we Left the Communist Party")
    detail = client.get(f"/api/v1/documents/{pamphlet['id']}").json
    assert len(detail["passages"]) == 2
    hits = client.get("/api/v1/search?q=pamphlet").json
    assert any(m.get("interview_id") == first["id"] and m["start_ms"] for m in hits["results"])
    restricted = next(i for i in listing["items"] if i["accession"] == "OH-SAMPLE-002")
    assert restricted["can_read_transcript"] is False
    hidden = client.get(f"/api/v1/interviews/{restricted['id']}/transcript")
    assert hidden.status_code in (401, 404)  # anonymous: credentials needed


def test_create_user_and_token(fresh):
    app = fresh.make_app()
    run(app, "init")
    out = run(
        app,
        "create-user",
        "Arch@Example.org",
        "--role",
        "archivist",
        "--name",
        "A",
        "--password",
        "long enough pw",
    )
    assert "archivist arch@example.org" in out
    prompted = run(app, "create-user", "r@example.org", input="long enough pw\nlong enough pw\n")
    assert "researcher r@example.org" in prompted
    failed = app.test_cli_runner().invoke(
        args=["create-user", "arch@example.org", "--password", "long enough pw"]
    )
    assert failed.exit_code != 0 and "exists already" in failed.output
    token = run(app, "create-token", "arch@example.org").strip().splitlines()[-1]
    response = app.test_client().post(
        "/api/v1/collections",
        json={"title": "Via token"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    missing = app.test_cli_runner().invoke(args=["create-token", "nobody@example.org"])
    assert missing.exit_code != 0 and "no account" in missing.output


def test_every_command_has_help(fresh):
    app = fresh.make_app()
    for command in ("init", "create-user", "create-token", "serve", "load-sample", "reindex"):
        result = app.test_cli_runner().invoke(args=[command, "--help"])
        assert result.exit_code == 0
        assert len(result.output.splitlines()) > 3, command
