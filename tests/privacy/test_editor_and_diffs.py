"""The editor, the version diffs (page and API) and the alignment preview for everyone but
archivists: redacted words as placeholders and anonymised names as labels on both sides of
a diff; a contributor may not edit their draft while anything of it is withheld from them
(they would save the masked copy over the words the archive keeps); archivists see and edit
everything."""

from __future__ import annotations

from oralhist.extensions import db
from oralhist.models import Interview

from .conftest import ARCHIVIST, NAME, ROLES, SURNAME, WORD, leaks


def _segments(browser, iid):
    return browser("archivist").get(f"/api/v1/interviews/{iid}/transcript").json["segments"]


def _edit_both_segments(browser, iid) -> int:
    rows = _segments(browser, iid)
    operations = [
        {"op": "update", "segment_id": rows[0]["id"], "text": f"{NAME} worked by lamplight."},
        {"op": "update", "segment_id": rows[1]["id"], "text": f"And the {WORD} by the tips?"},
    ]
    saved = browser("archivist").post(
        f"/api/v1/interviews/{iid}/transcript/edits",
        json={"base_version": 1, "operations": operations},
    )
    assert saved.status_code == 201, saved.json
    return saved.json["version"]


def test_diffs_mask_both_sides(app, browser, private):
    iid = private.interview
    version = _edit_both_segments(browser, iid)
    urls = (
        f"/interviews/{iid}/transcript/versions/{version}/diff",
        f"/api/v1/interviews/{iid}/transcripts/{version}/diff",
    )
    for role in ROLES:
        for url in urls:
            response = browser(role).get(url)
            assert response.status_code == 200, (role, url)
            text = response.get_data(as_text=True)
            assert not leaks(text), (role, url, leaks(text))
            assert "Narrator A" in text and "lamplight" in text, (role, url)
    hunks = browser("researcher").get(urls[1]).json["hunks"]
    # the change inside the redaction is not shown: both sides are the same placeholder
    assert len(hunks) == 1 and "[redacted" not in str(hunks)
    archivist = browser("archivist").get(urls[1]).get_data(as_text=True)
    assert SURNAME in archivist and WORD in archivist and "tips" in archivist


def test_a_contributor_does_not_edit_a_draft_with_withheld_parts(app, browser, private):
    from oralhist.services import catalogue

    iid = private.interview
    with app.test_request_context():
        catalogue.unpublish(ARCHIVIST, db.session.get(Interview, iid))
        db.session.commit()
    owner = browser("contributor")
    page = owner.get(f"/interviews/{iid}/transcript/edit")
    assert page.status_code == 403 and not leaks(page.get_data(as_text=True))
    row = _segments(browser, iid)[0]
    refused = owner.post(
        f"/api/v1/interviews/{iid}/transcript/edits",
        json={"base_version": 1, "operations": [{"op": "update", "segment_id": row["id"]}]},
    )
    assert refused.status_code == 403
    assert "redactions or anonymised names" in refused.json["error"]["message"]
    archivist = browser("archivist").get(f"/interviews/{iid}/transcript/edit")
    assert archivist.status_code == 200
    assert WORD in archivist.get_data(as_text=True)
    # nothing withheld any more: the contributor edits their draft again
    assert browser("archivist").delete(f"/api/v1/redactions/{private.redaction}").status_code == 204
    assert (
        browser("archivist")
        .patch(
            f"/api/v1/interviews/{iid}/agreements/{private.participant}",
            json={"anonymise": False},
        )
        .status_code
        == 200
    )
    assert owner.get(f"/interviews/{iid}/transcript/edit").status_code == 200


def test_the_alignment_preview_masks_for_its_reader(app, private):
    from oralhist.services import alignment, consent

    with app.test_request_context():
        interview = db.session.get(Interview, private.interview)
        current = interview.current_transcript
        shown = alignment.preview(interview, current, redactor=consent.public_redactor(interview))
        text = " ".join(f"{r!r}" for r in shown)
        assert not leaks(text) and "Narrator A" in text and "[redacted" in text
        truth = alignment.preview(interview, current, redactor=consent.NO_REDACTION)
        text = " ".join(f"{r!r}" for r in truth)
        assert SURNAME in text and WORD in text


def test_a_contributor_does_not_rename_or_merge_withheld_speakers(app, browser, private):
    from oralhist.services import catalogue

    iid = private.interview
    with app.test_request_context():
        catalogue.unpublish(ARCHIVIST, db.session.get(Interview, iid))
        db.session.commit()
    owner = browser("contributor")
    speakers = owner.get(f"/api/v1/interviews/{iid}/speakers").json["items"]
    assert speakers and not leaks(str(speakers))
    labelled = next(s for s in speakers if s["name"] == "Narrator A")
    renamed = owner.patch(
        f"/api/v1/interviews/{iid}/speakers/{labelled['id']}", json={"name": "Narrator A"}
    )
    assert renamed.status_code == 403, renamed.json
    assert "anonymised names" in renamed.json["error"]["message"]
    archivist = browser("archivist").get(f"/api/v1/interviews/{iid}/speakers")
    assert NAME in archivist.get_data(as_text=True)
