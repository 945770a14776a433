"""Redaction in a real browser: an archivist selects a passage in the transcript and redacts
it; a researcher then sees the placeholder, finds nothing when searching the word, and the
audio the browser receives is silent in that span."""

from __future__ import annotations

from oralhist.extensions import db
from tests.consent.conftest import WORD, archive, clock  # noqa: F401 (fixtures)
from tests.consent.test_redacted_audio import recorded  # noqa: F401 (fixture)

from .conftest import sign_in

#: In the page: fetch the audio the player would play (the silenced access copy, MP3),
#: decode it with the browser's own decoder, and return the RMS (16-bit scale) of the samples
#: in [a, b) ms and of the second before it, and the decoded duration in seconds.
RMS_JS = """
async ([url, a, b]) => {
  const data = await (await fetch(url)).arrayBuffer();
  const buffer = await new OfflineAudioContext(1, 1, 24000).decodeAudioData(data);
  const samples = buffer.getChannelData(0);
  const rate = buffer.sampleRate;
  const rms = (from, to) => {
    let sum = 0, n = 0;
    for (let i = Math.floor(from * rate / 1000); i < Math.floor(to * rate / 1000); i++) {
      const s = samples[i] * 32768; sum += s * s; n++;
    }
    return Math.sqrt(sum / n);
  };
  return [rms(a, b), rms(a - 1000, a), buffer.duration];
}
"""


def test_archivist_redacts_a_selection_and_a_researcher_gets_nothing_of_it(
    app,
    chromium,
    page,
    archive,  # noqa: F811
    recorded,  # noqa: F811
):
    iid = archive["interview"]
    sign_in(page, "archivist@example.org")
    page.goto(f"{page.base}/interviews/{iid}")
    # select the words of the segment at 0:00:10 in the transcript
    page.evaluate(
        """() => {
          const li = document.querySelector('li.segment[data-start-ms="10000"]');
          const range = document.createRange();
          range.selectNodeContents(li.querySelector('.text') || li);
          const sel = document.getSelection();
          sel.removeAllRanges();
          sel.addRange(range);
        }"""
    )
    page.wait_for_function("document.getElementById('redact-start').value !== ''")
    assert page.input_value("#redact-start") == "10.000"
    assert page.input_value("#redact-end") == "14.000"
    page.fill("#redact-reason", "names a neighbour")
    page.click("#redaction-form button[type=submit]")
    page.wait_for_load_state()
    assert "names a neighbour" in page.content()
    assert WORD in page.content()  # archivists still read it, with the redaction listed

    from oralhist.services import redacted_audio

    with app.app_context():
        assert redacted_audio.make_pending() == 2  # the worker's jobs: listening, download
        db.session.remove()

    researcher = chromium.new_context().new_page()
    researcher.base = page.base
    sign_in(researcher, "researcher@example.org")
    researcher.goto(f"{page.base}/interviews/{iid}")
    html = researcher.content()
    assert "[redacted 0:00:10-0:00:14]" in html and WORD not in html
    researcher.goto(f"{page.base}/search?q={WORD}")
    results = researcher.locator("main").inner_text()
    assert "Harbour days" not in results
    # inside the span, clear of its edges (an MP3 frame's transform reaches 50 ms across)
    silent, before, seconds = researcher.evaluate(
        RMS_JS, [f"/recordings/{recorded}/audio", 10100, 13900]
    )
    assert silent < 2.0 and before > 1000
    assert abs(seconds - 30) < 0.05  # the master's duration
    researcher.context.close()
