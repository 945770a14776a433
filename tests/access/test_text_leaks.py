"""The marker-word leak scan over every text tied to an interview.

Each interview of each kind (open, registered, restricted, closed, embargoed, draft) gets its
own marker word in every kind of text that belongs to it: the current transcript's words
(timed word by word), its speaker names, its cue ids and footnotes, an older transcript
version, an index point's synopsis, the note of a passage link to an open document, and
an index point added in the transcript editor (the diff between versions shows them all).
Then every role of the access matrix reads every route and API that can show such text: a
marker may appear only to those who may read that interview's transcript (``LISTEN`` of the
matrix, written out by hand), and must appear to them where the route shows it (so the scan
cannot pass by showing nothing).
"""

from __future__ import annotations

import pytest

from oralhist.access.policy import Viewer
from oralhist.extensions import db
from oralhist.models import Interview

from .test_policy_matrix import LISTEN, ROLES, VIEW_RECORD

TEXTS = ("seg", "spk", "cue", "fn", "old", "idx", "note", "edit")

VTT = """WEBVTT

{cue}
00:00:00.000 --> 00:00:00.800
<v {speaker}>We marched <00:00:00.400>past the mill, {word}, in the rain.

NOTE footnote
{footnote}
"""


def marker(kind: str, text: str) -> str:
    return f"zq{kind.replace('_', '')}{text}mk"


@pytest.fixture
def seeded(app, people, interviews, states):
    """Marker words in every text of every interview, and a passage link to an open
    document (so the document is visible to everyone) on each."""
    from oralhist.models import IndexPoint
    from oralhist.services import documents, mentions, transcript_editing, transcripts

    archivist = Viewer(user_id=people["archivist"], role="archivist")
    made: dict[str, dict[str, int]] = {"mention": {}}
    with app.test_request_context():
        document = documents.save_document(
            archivist, {"title": "The strike pamphlet", "access_level": "open"}
        )
        for kind, iid in interviews.items():
            interview = db.session.get(Interview, iid)
            old = VTT.format(
                cue="c1", speaker="Narrator", word=marker(kind, "old"), footnote="A note."
            )
            transcripts.import_transcript(archivist, interview, old.encode(), f"{kind}-1.vtt")
            new = VTT.format(
                cue=marker(kind, "cue"),
                speaker=marker(kind, "spk").title(),
                word=marker(kind, "seg"),
                footnote=f"Footnote on {marker(kind, 'fn')}.",
            )
            transcripts.import_transcript(archivist, interview, new.encode(), f"{kind}-2.vtt")
            db.session.flush()
            db.session.refresh(interview)
            current = interview.current_transcript
            db.session.add(
                IndexPoint(
                    transcript_id=current.id,
                    position=0,
                    start_ms=0,
                    title="The mill",
                    synopsis=f"About the mill and {marker(kind, 'idx')}.",
                )
            )
            mention = mentions.add_mention(
                archivist, document, interview, 0, 500, f"Discusses {marker(kind, 'note')}."
            )
            made["mention"][kind] = mention.id
            transcript_editing.save_edits(
                archivist,
                interview,
                [{"op": "index_add", "start_ms": 100, "title": f"Edited {marker(kind, 'edit')}"}],
            )
        db.session.commit()
        made["document"] = {"id": document.id}
    return made


def _urls(kind: str, iid: int, mid: int, doc: int) -> list[str]:
    return [
        f"/interviews/{iid}",
        f"/api/v1/interviews/{iid}",
        f"/api/v1/interviews/{iid}/mentions",
        f"/api/v1/interviews/{iid}/transcript",
        f"/api/v1/interviews/{iid}/transcripts/3/diff?against=1",
        f"/interviews/{iid}/transcript/versions/3/diff?against=1",
        f"/interviews/{iid}/transcript/edit",
        f"/api/v1/interviews/{iid}/citation?t=0&end=0.5",
        f"/interviews/{iid}/transcript/words",
        f"/interviews/{iid}/transcript/download?format=vtt",
        f"/api/v1/mentions/{mid}",
        f"/mentions/{mid}/cite",
        f"/documents/{doc}",
        f"/api/v1/documents/{doc}",
        # words next to the markers: a hit shows the marker in its snippet
        "/search?q=mill",
        "/api/v1/search?q=mill",
        "/search?q=discusses",
        "/api/v1/search?q=mill&kind=segment",
        # interoperability (issue 17): harvested, IIIF and crawler-facing texts
        f"/iiif/interviews/{iid}/manifest",
        f"/iiif/interviews/{iid}/transcript/1.vtt",
        "/iiif/collections",
        "/oai?verb=ListRecords&metadataPrefix=oai_dc",
        "/oai?verb=ListRecords&metadataPrefix=mods",
        "/sitemap.xml",
        # pages of the deposit area: the list's facts, the review queue, the deposit form,
        # the navigation's counts and the notifications they lead to
        "/interviews?per_page=50",
        "/review",
        "/deposit",
        "/account/",
    ]


def _text(client, url: str) -> tuple[int, str]:
    response = client.get(url)
    try:
        return response.status_code, response.get_data().decode("utf-8", "replace").lower()
    finally:
        response.close()


def test_no_text_of_an_interview_leaks_to_those_who_may_not_read_it(
    app, people, interviews, states, seeded, login
):
    doc = seeded["document"]["id"]
    leaks = []
    for role, key in ROLES.items():
        client = login(key)
        for kind, iid in interviews.items():
            mid = seeded["mention"][kind]
            for url in _urls(kind, iid, mid, doc):
                status, body = _text(client, url)
                if kind in LISTEN[role]:
                    continue
                for text in TEXTS:
                    if marker(kind, text) in body:
                        leaks.append((role, kind, text, url, status))
    assert leaks == [], "\n".join(map(str, leaks))


def test_those_who_may_read_see_the_notes_and_words(app, people, interviews, states, seeded, login):
    """The other side of the scan: the texts are shown where they belong."""
    doc = seeded["document"]["id"]
    missing = []
    for role, key in ROLES.items():
        client = login(key)
        _, document_page = _text(client, f"/documents/{doc}")
        _, document_api = _text(client, f"/api/v1/documents/{doc}")
        for kind, iid in interviews.items():
            if kind not in LISTEN[role] or kind not in VIEW_RECORD[role]:
                continue
            mid = seeded["mention"][kind]
            _, page = _text(client, f"/interviews/{iid}")
            _, passage = _text(client, f"/api/v1/mentions/{mid}")
            _, transcript = _text(client, f"/api/v1/interviews/{iid}/transcript")
            _, vtt = _text(client, f"/iiif/interviews/{iid}/transcript/1.vtt")
            _, diff = _text(client, f"/api/v1/interviews/{iid}/transcripts/3/diff?against=1")
            _, diff_page = _text(client, f"/interviews/{iid}/transcript/versions/3/diff?against=1")
            for where, body, texts in (
                ("iiif transcript", vtt, ("seg", "spk")),
                ("diff api", diff, ("seg", "old", "idx", "edit")),
                ("diff page", diff_page, ("seg", "old", "edit")),
                ("transcript api", transcript, ("seg", "spk", "cue", "fn", "edit")),
                ("interview page", page, ("seg", "spk", "fn", "idx", "note")),
                ("document page", document_page, ("seg", "note")),
                ("document api", document_api, ("seg", "note")),
                ("mention api", passage, ("seg", "note")),
            ):
                missing += [(role, kind, t, where) for t in texts if marker(kind, t) not in body]
    _, found = _text(login("archivist"), "/api/v1/search?q=mill")
    missing += [(kind, "search") for kind in interviews if marker(kind, "seg") not in found]
    assert missing == [], "\n".join(map(str, missing))


def test_passage_notes_hidden_but_the_link_listed(app, people, interviews, states, seeded, login):
    """Anonymous readers of a restricted interview's passage see the link (time and
    citation: catalogue data) with ``note`` null and no words."""
    mid = seeded["mention"]["restricted"]
    data = login(None).get(f"/api/v1/mentions/{mid}").json
    assert data["transcript_readable"] is False
    assert data["note"] is None and "segments" not in data and "text" not in data
    assert (data["start_ms"], data["end_ms"]) == (0, 500)
    approved = login("r_approved").get(f"/api/v1/mentions/{mid}").json
    assert approved["note"] == f"Discusses {marker('restricted', 'note')}."
