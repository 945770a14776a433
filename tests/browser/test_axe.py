"""axe-core (the copy bundled in ``axe-playwright-python``, no CDN) finds no violations on the
pages people use: home, list, interview (player, transcript, index), search, document,
access request, queue, audit and account, for the role that sees each."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from oralhist.extensions import db
from tests.browser.conftest import sign_in


@pytest.fixture
def sample(app, users):
    """The sample archive (index points, documents, passages) and one pending request."""
    from oralhist.access import load_viewer
    from oralhist.models import AccessRequest, Document, Interview, User
    from oralhist.services import access_requests, indexing, sample

    with app.test_request_context():
        sample.load_sample()
        interview = db.session.scalar(
            select(Interview).where(Interview.accession == "OH-SAMPLE-001")
        )
        restricted = db.session.scalar(
            select(Interview).where(Interview.accession != "OH-SAMPLE-001")
        )
        restricted.access_level = "restricted"
        researcher = load_viewer(db.session.get(User, users["researcher"]))
        access_requests.create_request(
            researcher,
            restricted,
            {
                "purpose": "A doctoral thesis on the 1956 crisis in Nottingham.",
                "intended_use": "research",
                "agree_terms": "on",
            },
        )
        db.session.commit()
        indexing.process_pending()
        document = db.session.scalars(select(Document)).first()
        request = db.session.scalars(select(AccessRequest)).first()
        return {
            "interview": interview.id,
            "restricted": restricted.id,
            "document": document.id,
            "request": request.id,
        }


def violations(page) -> list[str]:
    """axe's violations on the page as it is now, one readable line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in results.response["violations"]
    ]


ANONYMOUS_PAGES = ["/", "/interviews", "/search?q=bicycle", "/login", "/signup", "/collections"]


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_public_pages_have_no_axe_violations(page, sample, path):
    page.goto(page.base + path)
    assert violations(page) == []


def test_interview_page_has_no_axe_violations(page, sample):
    page.goto(f"{page.base}/interviews/{sample['interview']}?t=30")
    page.wait_for_function("() => !!window.oralhistPlayer")
    assert violations(page) == []


def test_interview_page_for_an_archivist_has_no_axe_violations(page, sample):
    sign_in(page, "archivist@example.org")
    page.goto(f"{page.base}/interviews/{sample['interview']}")
    page.wait_for_function("() => !!window.oralhistPlayer")
    assert violations(page) == []


def test_document_page_has_no_axe_violations(page, sample):
    page.goto(f"{page.base}/documents/{sample['document']}")
    assert violations(page) == []


def test_researcher_pages_have_no_axe_violations(page, sample):
    sign_in(page, "researcher@example.org")
    for path in [
        "/account/",
        "/access/mine",
        f"/access/requests/{sample['request']}",
        f"/interviews/{sample['restricted']}",
        f"/interviews/{sample['restricted']}/request-access",
    ]:
        page.goto(page.base + path)
        assert (path, violations(page)) == (path, [])


def test_archivist_pages_have_no_axe_violations(page, sample):
    sign_in(page, "archivist@example.org")
    for path in [
        "/access/queue",
        "/access/audit",
        f"/access/requests/{sample['request']}",
        f"/interviews/{sample['interview']}/speakers",
        f"/interviews/{sample['interview']}/transcript/versions",
        "/search?q=bicycle",
    ]:
        page.goto(page.base + path)
        assert (path, violations(page)) == (path, [])


def test_player_dialogs_have_no_axe_violations(page, sample):
    page.goto(f"{page.base}/interviews/{sample['interview']}?t=30")
    page.wait_for_function("() => !!window.oralhistPlayer")
    page.click("#oh-keys-open")
    page.wait_for_selector("#oh-keys[open]")
    assert violations(page) == []
    page.click("#oh-keys-close")
    page.click("#tx-cite")
    page.wait_for_function("() => document.getElementById('tx-cite-url').value !== ''")
    assert violations(page) == []


def test_speaker_merge_pages_have_no_axe_violations(page, sample):
    from tests.browser.conftest import sign_in as enter

    enter(page, "archivist@example.org")
    page.goto(f"{page.base}/interviews/{sample['interview']}/speakers")
    page.locator("form.speaker-merge button[type=submit]").first.click()
    page.wait_for_selector("h1:has-text('Merge')")
    assert violations(page) == []
    page.click("form button[type=submit]:has-text('Merge')")
    page.wait_for_selector("#merges-h")
    assert violations(page) == []


def test_editor_pages_have_no_axe_violations(page, app, sample):
    """The transcript editor (its page and its help dialog) and the comparison of two
    versions that a saved edit leads to."""
    from oralhist.access.policy import Viewer
    from oralhist.models import Interview
    from oralhist.services import transcript_editing, transcript_versions

    sign_in(page, "archivist@example.org")
    edit = f"{page.base}/interviews/{sample['interview']}/transcript/edit"
    page.goto(edit)
    page.wait_for_selector("#editor")
    assert violations(page) == []
    page.keyboard.press("Alt+h")
    page.wait_for_selector("#ed-help[open]")
    assert violations(page) == []

    with app.test_request_context():
        interview = db.session.get(Interview, sample["interview"])
        current = transcript_versions.current_transcript(interview)
        first = current.segments[0]
        saved = transcript_editing.save_edits(
            Viewer(user_id=None, role="archivist"),
            interview,
            [{"op": "update", "segment_id": first.id, "text": first.text + " (checked)"}],
            current.version,
        )
        db.session.commit()
        version = saved.transcript.version
    page.goto(f"{page.base}/interviews/{sample['interview']}/transcript/versions/{version}/diff")
    assert page.locator("li.diff-hunk").count() == 1
    assert violations(page) == []
