"""The import preview in Chromium (issue 15): short segments of a file without speakers are
left-aligned like the others, not pushed to the right edge."""

from __future__ import annotations

from tests.browser.conftest import sign_in
from tests.browser.test_player import two_parts  # noqa: F401  (the fixture)

NO_SPEAKERS = b"""1
00:00:00,000 --> 00:00:02,000
Yes.

2
00:00:02,000 --> 00:00:05,000
We walked to the works every morning along the canal, before the hooter went at seven.

3
00:00:05,000 --> 00:00:06,000
No.
"""


def test_preview_lines_are_left_aligned_without_speakers(page, two_parts, tmp_path):  # noqa: F811
    sign_in(page, "archivist@example.org")
    page.set_viewport_size({"width": 1280, "height": 800})
    source = tmp_path / "plain.srt"
    source.write_bytes(NO_SPEAKERS)
    page.goto(f"{page.base}/interviews/{two_parts}")
    page.set_input_files("#f-tx-file", str(source))
    page.click("form.transcript-import button[type=submit]")
    page.wait_for_selector("ol.transcript.preview li.segment")
    offsets = page.evaluate(
        """() => [...document.querySelectorAll('ol.transcript.preview li.segment')].map(li =>
             Math.round(li.querySelector('.text').getBoundingClientRect().left
                        - li.getBoundingClientRect().left))"""
    )
    assert len(offsets) == 3
    assert max(offsets) < 120  # right after the time, never at the far edge
    assert max(offsets) - min(offsets) < 12
