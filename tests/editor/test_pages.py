"""The editor's pages: who may open the editor, what it renders, the diff page, and the
links to both from the interview and versions pages."""

from __future__ import annotations

import pytest

from .conftest import VTT, segments, upload

ROLES = ("anon", "researcher", "contributor", "contributor2", "archivist")
EDITOR = {
    "draft": {"anon": 404, "researcher": 404, "contributor": 200, "contributor2": 404},
    "published": {"anon": 302, "researcher": 403, "contributor": 403, "contributor2": 403},
}


@pytest.mark.parametrize("state", ["draft", "published"])
@pytest.mark.parametrize("role", ROLES)
def test_who_opens_the_editor_and_the_diff(browser, make_interview, role, state):
    interview_id = make_interview("open", state)
    archivist = browser("archivist")
    assert upload(archivist, interview_id, VTT).status_code == 201
    first = segments(archivist, interview_id)[0]
    archivist.patch(f"/api/v1/segments/{first['id']}", json={"text": "Where does it all begin?"})
    client = browser(None if role == "anon" else role)
    page = client.get(f"/interviews/{interview_id}/transcript/edit")
    assert page.status_code == EDITOR[state].get(role, 200)
    interview = client.get(f"/interviews/{interview_id}")
    editable = EDITOR[state].get(role, 200) == 200
    if interview.status_code == 200:
        assert ("Edit transcript" in interview.get_data(as_text=True)) is editable
    if editable:
        html = page.get_data(as_text=True)
        assert html.count('class="ed-seg"') == 4
        assert 'data-version="2"' in html and "Where does it all begin?" in html
        assert 'contenteditable="plaintext-only"' in html and "editor.js" in html
    diff = client.get(f"/interviews/{interview_id}/transcript/versions/2/diff")
    readable = state == "published" or role in ("contributor", "archivist")
    assert diff.status_code == (200 if readable else 404)
    if readable:
        html = diff.get_data(as_text=True)
        assert "<del>your story</del> <ins>it all</ins>" in html
        assert "3 segments unchanged" in html


def test_versions_page_links_each_version_to_its_changes(browser, with_transcript):
    interview_id = with_transcript()
    archivist = browser("archivist")
    first = segments(archivist, interview_id)[0]
    archivist.patch(f"/api/v1/segments/{first['id']}", json={"text": "Where does it begin?"})
    html = archivist.get(f"/interviews/{interview_id}/transcript/versions").get_data(as_text=True)
    assert "Edited from version 1 (1 edited)" in html
    assert f"/interviews/{interview_id}/transcript/versions/2/diff" in html
    assert "Edit the transcript" in html
    bad = archivist.get(f"/interviews/{interview_id}/transcript/versions/2/diff?against=zz")
    assert bad.status_code == 422


def test_the_editor_needs_a_transcript(browser, make_interview):
    interview_id = make_interview("open", "published")
    page = browser("archivist").get(f"/interviews/{interview_id}/transcript/edit")
    assert page.status_code == 404
    assert "no transcript" in page.get_data(as_text=True)
