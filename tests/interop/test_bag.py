"""BagIt: `oralhist export --bag` writes a BagIt 1.0 bag that bagit.py validates (whole
archive, one interview, one collection); `oralhist import` takes a bag back only when every
checksum matches, and the round trip into an empty archive keeps every record, transcript
version and file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import bagit
import pytest

from oralhist.extensions import db
from oralhist.models import Interview
from tests.test_bulk import (  # the export/import round trip's own helpers
    enrich_sample,
    load_sample,
    make_other_app,  # noqa: F401 (a fixture)
    ok,
    refused,
    snapshot,
    state,
)


def bag_info(path: Path) -> dict[str, str]:
    return bagit.Bag(str(path)).info


def validate_with_bagit_py(path: Path) -> subprocess.CompletedProcess:
    """The bagit.py command itself, as a preservation system would run it."""
    return subprocess.run(
        [sys.executable, "-m", "bagit", "--validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_round_trip_of_the_whole_archive_as_a_bag(app, make_other_app, tmp_path):  # noqa: F811
    load_sample(app)
    enrich_sample(app)
    before = snapshot(app)
    dest = tmp_path / "bag"

    output = ok(app, "export", "--bag", dest)
    assert "valid BagIt bag" in output
    checked = validate_with_bagit_py(dest)
    assert checked.returncode == 0, checked.stderr
    assert "is valid" in checked.stderr
    info = bag_info(dest)
    assert info["External-Identifier"] == "archive"
    assert info["Source-Organization"] == "oralhist"
    assert info["Bagging-Date"]
    files = [p for p in (dest / "data").rglob("*") if p.is_file()]
    octets = sum(p.stat().st_size for p in files)
    assert info["Payload-Oxum"] == f"{octets}.{len(files)}"
    for algorithm in ("sha256", "sha512"):
        assert (dest / f"manifest-{algorithm}.txt").is_file()
        assert (dest / f"tagmanifest-{algorithm}.txt").is_file()
    assert (dest / "bagit.txt").read_text().startswith("BagIt-Version: 1.0")
    manifest = json.loads((dest / "data" / "manifest.json").read_text())
    history = [v["file"] for i in manifest["interviews"] for v in i.get("transcript_history", [])]
    assert history and all((dest / "data" / f).is_file() for f in history)

    other = make_other_app()
    ok(other, "import", dest)
    after = snapshot(other)
    assert after == before
    assert "0 changed" in ok(other, "fixity")  # every file hashes as recorded (sha256)


def test_a_changed_byte_refuses_the_whole_import(app, make_other_app, tmp_path):  # noqa: F811
    load_sample(app)
    dest = tmp_path / "bag"
    ok(app, "export", "--bag", dest)
    transcript = next((dest / "data" / "transcripts").glob("*.vtt"))
    content = bytearray(transcript.read_bytes())
    content[-2] = ord("X") if content[-2] != ord("X") else ord("Y")
    transcript.write_bytes(bytes(content))
    assert validate_with_bagit_py(dest).returncode != 0

    other = make_other_app()
    nothing = state(other)
    output = refused(other, "import", dest)
    assert f"data/transcripts/{transcript.name} has changed" in output
    assert "nothing was imported" in output
    assert state(other) == nothing


def test_a_missing_or_extra_file_is_refused(app, make_other_app, tmp_path):  # noqa: F811
    load_sample(app)
    dest = tmp_path / "bag"
    ok(app, "export", "--bag", dest)
    (dest / "data" / "README.txt").unlink()
    (dest / "data" / "stowaway.txt").write_text("not in the manifest")
    other = make_other_app()
    output = refused(other, "import", dest)
    assert "data/README.txt is missing" in output
    assert "data/stowaway.txt is not in the bag's manifest" in output
    assert state(other)["rows"]["interview"] == 0


def test_a_file_grown_by_a_byte_is_named(app, make_other_app, tmp_path):  # noqa: F811
    load_sample(app)
    dest = tmp_path / "bag"
    ok(app, "export", "--bag", dest)
    with open(dest / "data" / "README.txt", "ab") as readme:
        readme.write(b"!")
    other = make_other_app()
    output = refused(other, "import", dest)
    assert "data/README.txt has changed (sha256 does not match)" in output


def test_a_bag_of_one_interview(app, tmp_path):
    load_sample(app)
    with app.app_context():
        one = db.session.scalar(db.select(Interview).where(Interview.accession == "OH-SAMPLE-001"))
        interview_id = one.id
    dest = tmp_path / "one"
    ok(app, "export", "--bag", "--interview", interview_id, dest)
    assert validate_with_bagit_py(dest).returncode == 0
    assert bag_info(dest)["External-Identifier"] == "OH-SAMPLE-001"
    manifest = json.loads((dest / "data" / "manifest.json").read_text())
    assert [i["accession"] for i in manifest["interviews"]] == ["OH-SAMPLE-001"]
    named = {p["person"] for p in manifest["interviews"][0]["participants"]}
    assert named <= {p["key"] for p in manifest["people"]}
    assert all(m["interview"] == "OH-SAMPLE-001" for m in manifest["mentions"])


def test_a_bag_of_one_collection(app, tmp_path):
    load_sample(app)
    with app.app_context():
        slug = db.session.scalar(
            db.select(Interview).where(Interview.accession == "OH-SAMPLE-001")
        ).collection.slug
    dest = tmp_path / "coll"
    ok(app, "export", "--bag", "--collection", slug, dest)
    assert bag_info(dest)["External-Identifier"] == slug
    assert validate_with_bagit_py(dest).returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--bag", "--no-media"), "needs the media"),
        (("--interview", "1", "--collection", "x"), "not both"),
        (("--bag", "--interview", "99999"), "no interview 99999"),
        (("--bag", "--collection", "nonesuch"), "no collection 'nonesuch'"),
    ],
)
def test_bad_export_options_are_refused(app, tmp_path, args, message):
    assert message in refused(app, "export", *args, tmp_path / "out")
