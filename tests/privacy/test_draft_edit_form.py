"""A draft's own contributor while something of it is withheld (an anonymised narrator, a
redaction in force): one rule, ``policy.can_edit_record`` (only archivists edit while
``policy.withholds``), answers the catalogue edit form, the API's PATCH, recordings,
transcripts, speakers and the editor alike. The form never shows the contributor the real
title or name, every editing path refuses with the same reason, nothing they send is saved,
and once nothing is withheld they edit their draft again. Archivists edit throughout."""

from __future__ import annotations

import io

from oralhist.extensions import db
from oralhist.models import Interview

from .conftest import ARCHIVIST, NAME, SURNAME, leaks, leaks_by_role

REASON = "redactions or anonymised names"


def _as_draft(app, iid: int) -> None:
    from oralhist.services import catalogue

    with app.test_request_context():
        catalogue.unpublish(ARCHIVIST, db.session.get(Interview, iid))
        db.session.commit()


def _title(app, iid: int) -> str:
    with app.app_context():
        return db.session.get(Interview, iid).title


def test_the_edit_form_and_the_interview_page_leak_nothing_to_the_drafts_contributor(
    app, browser, private
):
    iid = private.interview
    _as_draft(app, iid)
    urls = [
        f"/interviews/{iid}/edit",
        f"/interviews/{iid}",
        f"/api/v1/interviews/{iid}",
        f"/interviews/{iid}/transcript/edit",
        f"/interviews/{iid}/speakers",
        "/deposit",
        "/interviews?status=draft",
        "/api/v1/interviews?status=draft",
    ]
    found = leaks_by_role(browser, urls)
    assert found == [], "\n".join(map(str, found))
    owner = browser("contributor")
    form = owner.get(f"/interviews/{iid}/edit")
    assert form.status_code == 403
    assert REASON in form.get_data(as_text=True)
    page = owner.get(f"/interviews/{iid}").get_data(as_text=True)
    assert "Narrator A" in page  # the owner reads their draft, masked
    assert f'href="/interviews/{iid}/edit"' not in page  # and is offered no edit link
    archivist = browser("archivist").get(f"/interviews/{iid}/edit")
    assert archivist.status_code == 200 and SURNAME in archivist.get_data(as_text=True)


def test_every_editing_path_refuses_the_contributor_with_one_reason(app, browser, private):
    from tests.recordings.conftest import wav_bytes

    iid = private.interview
    _as_draft(app, iid)
    before = _title(app, iid)
    owner = browser("contributor")
    posted = owner.post(f"/interviews/{iid}/edit", data={"title": "Down the pit with Narrator A"})
    patched = owner.patch(f"/api/v1/interviews/{iid}", json={"title": "Narrator A's pit"})
    uploaded = owner.post(
        f"/api/v1/interviews/{iid}/recordings",
        data={"file": (io.BytesIO(wav_bytes(0.5)), "more.wav")},
        content_type="multipart/form-data",
    )
    imported = owner.post(
        f"/api/v1/interviews/{iid}/transcripts",
        data={"file": (io.BytesIO(b"WEBVTT\n\n00:00.000 --> 00:01.000\nHello.\n"), "t.vtt")},
        content_type="multipart/form-data",
    )
    relabelled = owner.patch(f"/api/v1/recordings/{private.recording}", json={"label": "Tape"})
    for response in (posted, patched, uploaded, imported, relabelled):
        assert response.status_code == 403, response.get_data(as_text=True)[:300]
        assert REASON in response.get_data(as_text=True)
        assert not leaks(response.get_data(as_text=True))
    assert _title(app, iid) == before  # nothing saved
    with app.app_context():
        interview = db.session.get(Interview, iid)
        assert len(interview.recordings) == 1 and interview.current_transcript.version == 1


def test_a_researcher_or_another_contributor_is_not_told_the_reason(app, browser, private):
    """The withheld-material reason is the owner's: to others the draft does not exist."""
    iid = private.interview
    _as_draft(app, iid)
    for role in (None, "researcher", "contributor2"):
        response = browser(role).patch(f"/api/v1/interviews/{iid}", json={"title": "x"})
        assert response.status_code in (401, 403, 404), role
        assert REASON not in response.get_data(as_text=True)


def test_when_nothing_is_withheld_the_contributor_edits_the_draft_again(app, browser, private):
    iid = private.interview
    _as_draft(app, iid)
    archivist = browser("archivist")
    assert archivist.delete(f"/api/v1/redactions/{private.redaction}").status_code == 204
    owner = browser("contributor")
    assert owner.get(f"/interviews/{iid}/edit").status_code == 403  # the name is still withheld
    lifted = archivist.patch(
        f"/api/v1/interviews/{iid}/agreements/{private.participant}", json={"anonymise": False}
    )
    assert lifted.status_code == 200
    form = owner.get(f"/interviews/{iid}/edit")
    assert form.status_code == 200 and NAME in form.get_data(as_text=True)
    patched = owner.patch(f"/api/v1/interviews/{iid}", json={"title": "Down the pit, 1957"})
    assert patched.status_code == 200, patched.json
    assert _title(app, iid) == "Down the pit, 1957"


def test_archivists_edit_while_material_is_withheld(app, browser, private):
    iid = private.interview
    _as_draft(app, iid)
    patched = browser("archivist").patch(
        f"/api/v1/interviews/{iid}", json={"title": f"The pit, with {NAME}"}
    )
    assert patched.status_code == 200, patched.json
    assert _title(app, iid) == f"The pit, with {NAME}"
