"""The marker-word leak scan for proposed (machine-made) transcript versions.

A proposed version is unchecked machine output: until it is accepted only the interview's
editors see its text (the contributor while the interview is a draft, archivists, admins;
written out by hand below), however freely the current transcript may be read. Every role
reads every route that shows transcript text; the marker may appear only to those editors,
and must appear to them on the preview.
"""

from __future__ import annotations

from oralhist.align import pipeline
from oralhist.extensions import db
from oralhist.services import alignment, transcripts
from oralhist.transcripts.model import Word

from .test_policy_matrix import ALL, ROLES

EDIT = {role: frozenset() for role in ROLES} | {
    "contributor owner": frozenset({"draft"}),
    "archivist": ALL,
    "admin": ALL,
}

VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:00.800\nWe marched past the mill.\n"


def marker(kind: str) -> str:
    return f"zq{kind.replace('_', '')}proposedmk"


def seed(app, interviews) -> dict[str, int]:
    from oralhist.access.policy import Viewer
    from oralhist.models import Interview

    archivist = Viewer(user_id=None, role="archivist")
    versions = {}
    with app.test_request_context():
        for kind, iid in interviews.items():
            interview = db.session.get(Interview, iid)
            transcripts.import_transcript(archivist, interview, VTT.encode(), "t.vtt")
            result = pipeline.Result(
                [
                    pipeline.SegmentOut(
                        0, 800, [Word("mill", 0, 400, 0.9), Word(marker(kind), 400, 800, 0.2)], True
                    )
                ]
            )
            saved = alignment.save_transcribed(
                iid, 0, result, {"engine": "pocketsphinx", "machine_draft": True}, None
            )
            versions[kind] = saved.version
        db.session.commit()
    return versions


def urls(iid: int, version: int) -> list[str]:
    return [
        f"/interviews/{iid}",
        f"/api/v1/interviews/{iid}",
        f"/api/v1/interviews/{iid}/transcript",
        f"/api/v1/interviews/{iid}/transcripts",
        f"/interviews/{iid}/transcript/versions",
        f"/interviews/{iid}/transcript/words",
        f"/interviews/{iid}/transcript/download?format=vtt",
        f"/interviews/{iid}/transcript/versions/{version}/preview",
        f"/api/v1/interviews/{iid}/transcripts/{version}/preview",
        "/search?q=mill",
        "/api/v1/search?q=mill",
    ]


def test_proposed_text_only_to_the_interviews_editors(app, people, interviews, states, login):
    versions = seed(app, interviews)
    leaks, missing = [], []
    for role, key in ROLES.items():
        client = login(key)
        for kind, iid in interviews.items():
            for url in urls(iid, versions[kind]):
                response = client.get(url)
                body = response.get_data().decode("utf-8", "replace").lower()
                response.close()
                if marker(kind) in body and kind not in EDIT[role]:
                    leaks.append((role, kind, url, response.status_code))
                if kind in EDIT[role] and "preview" in url and marker(kind) not in body:
                    missing.append((role, kind, url, response.status_code))
    assert leaks == [], "\n".join(map(str, leaks))
    assert missing == [], "\n".join(map(str, missing))
