"""A recording's metadata for every role x every kind of interview: those who may not listen
learn what the catalogue shows (position, duration, format), never the label, the uploader's
file name, the checksum or the embedded tags; listeners learn the label and the encoding;
those who may download the master (or edit the material) learn the file's name and checksum.
"""

from __future__ import annotations

from oralhist.access.policy import (
    RECORDING_CATALOGUE_FIELDS,
    RECORDING_FILE_FIELDS,
    RECORDING_LISTENER_FIELDS,
)
from oralhist.extensions import db
from oralhist.models import Recording

from .test_material_matrix import material  # noqa: F401 (a fixture)
from .test_policy_matrix import DOWNLOAD_MASTER, LISTEN, ROLES, VIEW_RECORD

EDITORS = ("contributor owner", "archivist", "admin")


def label_marker(kind: str) -> str:
    return f"zq{kind.replace('_', '')}labelmk"


def test_recording_metadata_matrix(app, people, interviews, states, material, login):  # noqa: F811
    with app.app_context():
        for kind, rid in material.items():
            db.session.get(Recording, rid).label = f"Tape 1: {label_marker(kind)}"
        db.session.commit()
    mismatches = []
    for role, key in ROLES.items():
        client = login(key)
        for kind, rid in material.items():
            response = client.get(f"/api/v1/recordings/{rid}")
            if kind not in VIEW_RECORD[role]:
                if response.status_code != 404:
                    mismatches.append((role, kind, "status", 404, response.status_code))
                continue
            if kind in DOWNLOAD_MASTER[role] or role in EDITORS:
                fields = RECORDING_FILE_FIELDS
            elif kind in LISTEN[role]:
                fields = RECORDING_LISTENER_FIELDS
            else:
                fields = RECORDING_CATALOGUE_FIELDS
            got = set(response.json) - {"audio_url", "download_url"}
            if got != fields:
                mismatches.append((role, kind, "fields", sorted(got ^ fields)))
            if kind not in LISTEN[role]:
                text = response.get_data(as_text=True)
                for secret in ("sha256", "original_filename", label_marker(kind), f"{kind}.wav"):
                    if secret in text:
                        mismatches.append((role, kind, "api leaks", secret))
                for url in (
                    f"/interviews/{interviews[kind]}",
                    f"/api/v1/interviews/{interviews[kind]}",
                ):
                    if label_marker(kind) in client.get(url).get_data(as_text=True):
                        mismatches.append((role, kind, "label leaks", url))
    assert mismatches == [], "\n".join(map(str, mismatches))


def test_the_catalogue_line_is_public(app, people, interviews, states, material, login):  # noqa: F811
    """Anonymous readers of a closed interview still get the part's duration and format."""
    data = login(None).get(f"/api/v1/recordings/{material['closed']}").json
    assert set(data) == RECORDING_CATALOGUE_FIELDS
    assert data["duration_ms"] > 0 and data["format"] == "wav" and data["position"] == 0
