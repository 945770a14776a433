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


# --- outside the project folder (#15) -------------------------------------------------------


def _oralhist(cwd, *args, env_extra=None):
    """Run the real ``oralhist`` command (a new process, as a person would) in ``cwd``."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OH_INSTANCE_PATH"}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "oralhist.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "args",
    [("create-token", "x@example.org"), ("reindex",), ("access", "expire"), ("jobs", "list")],
)
def test_a_command_outside_the_project_folder_says_where_it_looked(tmp_path, args):
    result = _oralhist(tmp_path, *args)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line, never a traceback
    assert "Traceback" not in result.stderr + result.stdout
    assert str(tmp_path / "instance") in lines[0]
    assert "--instance" in lines[0] and "OH_INSTANCE_PATH" in lines[0]
    assert not (tmp_path / "instance").exists()  # nothing created on the way


def test_an_empty_instance_folder_is_not_given_an_empty_database(tmp_path):
    (tmp_path / "instance").mkdir()
    result = _oralhist(tmp_path, "create-token", "x@example.org")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "no database" in result.stderr
    assert list((tmp_path / "instance").iterdir()) == []


def test_help_needs_no_archive(tmp_path):
    result = _oralhist(tmp_path, "create-token", "--help")
    assert result.returncode == 0 and "EMAIL" in result.stdout


def test_instance_option_and_variable_point_at_the_archive(fresh, tmp_path):
    app = fresh.make_app()
    run(app, "init")
    run(app, "create-user", "a@example.org", "--role", "admin", "--password", "long enough pw")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    instance = str(fresh / "instance")
    by_option = _oralhist(elsewhere, "--instance", instance, "create-token", "a@example.org")
    assert by_option.returncode == 0, by_option.stderr
    by_variable = _oralhist(
        elsewhere, "create-token", "a@example.org", env_extra={"OH_INSTANCE_PATH": instance}
    )
    assert by_variable.returncode == 0, by_variable.stderr
    assert by_option.stdout.strip().splitlines()[-1] != by_variable.stdout.strip().splitlines()[-1]


def test_a_database_without_tables_is_told_to_run_init(fresh):
    app = fresh.make_app()
    from oralhist.cli import NoArchive, check_archive

    (fresh / "instance").mkdir()
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        (fresh / "instance" / "oralhist.sqlite3").write_bytes(b"")
    with pytest.raises(NoArchive, match="init"):
        check_archive(app)


def test_init_says_how_to_run_the_command_when_it_is_not_on_the_path(fresh, monkeypatch):
    import sys

    venv_bin = fresh / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    script = venv_bin / "oralhist"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setattr(sys, "argv", [str(script)])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    output = run(fresh.make_app(), "init")
    assert "Next: `.venv/bin/oralhist create-user EMAIL --role admin`" in output
    assert "source .venv/bin/activate" in output
    monkeypatch.setenv("PATH", f"{venv_bin}:/usr/bin:/bin")
    again = run(fresh.make_app(), "init")
    assert "Next: `oralhist create-user EMAIL --role admin`" in again
    assert "activate" not in again
