"""The W3C web-platform-tests WebVTT file-parsing suite, case by case (issue 13 item 1).

Each case's own JavaScript assertions run unchanged in Chromium against the cues (and
regions) that ``vtt.parse_cues`` keeps; the ``signature-invalid`` files must be refused.
The cases are the copy in ``tests/transcripts/wpt_webvtt/`` (see its README for what the
public stores held and what is missing). ``bench/wpt_webvtt.py`` gives the same count.
"""

from __future__ import annotations

import json

import pytest

from tests.transcripts.wpt_cases import HARNESS, RUN, cases, our_cues

CASES = cases()


def test_the_copy_holds_the_whole_file_parsing_suite_we_could_find():
    names = set(CASES)
    assert len([c for c in CASES.values() if c.kind == "cues"]) == 38
    assert {"newlines", "nulls", "settings-line", "header-regions", "timings-60"} <= names
    assert len([c for c in CASES.values() if c.kind == "refused"]) == 8
    # the CR bytes of "newlines" survive (the earlier copy lost them)
    assert CASES["newlines"].data.startswith(b"WEBVTT\r\rcr\r00:00:00.000")


@pytest.fixture(scope="module")
def harness(chromium):
    page = chromium.new_page()
    page.evaluate(HARNESS)
    yield page
    page.close()


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.kind == "cues"))
def test_wpt_case_cues_are_what_a_browser_keeps(harness, name):
    case = CASES[name]
    ours = our_cues(case.data)
    assert ours is not None, f"{name}: refused, where a browser loads the track"
    cues, regions = ours
    problem = harness.evaluate(RUN, json.loads(json.dumps([cues, regions, case.javascript])))
    assert problem is None, f"{name}: {problem}"


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.kind == "refused"))
def test_wpt_invalid_signature_is_refused(name):
    assert our_cues(CASES[name].data) is None
