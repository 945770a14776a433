"""The W3C web-platform-tests WebVTT file-parsing cases, read from a wpt folder, and the
cues our parser gives for each, shaped as a browser's ``VTTCue`` objects.

Shared by ``bench/wpt_webvtt.py`` (counts) and ``tests/browser/test_wpt_webvtt.py`` (one
test per case). The copy under ``tests/transcripts/wpt_webvtt/`` holds the inputs and
expectations (W3C 3-clause BSD, see its README); a full wpt checkout works as well.

A case comes in one of three layouts, as wpt has them:

* ``support/NAME.test``: the source that wpt's ``tools/build.py`` turns into a test page:
  a title, the JavaScript assertions on ``cues``, ``===``, then the file with Python
  string escapes (``\\r``, ``\\x00``...);
* ``tests/NAME.html`` with ``tests/support/NAME.vtt``: a built page (the assertions inside
  ``trackLoaded``) or a hand-written one (``header-regions.html``: helper functions, then
  assertions on ``track.cues`` inside ``step_func_done``);
* ``signature-invalid.html``: files a browser must refuse (an ``error`` event, no cues).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent / "wpt_webvtt"

#: The inputs of ``signature-invalid.html`` (its list, alphabetical as there).
INVALID_SIGNATURES = (
    "empty.vtt",
    "signature-formfeed.vtt",
    "signature-invalid-whitespace.vtt",
    "signature-invalid.vtt",
    "signature-lowercase.vtt",
    "signature-missing-whitespace.vtt",
    "signature-missing.vtt",
    "signature-null.vtt",
    "signature-partial.vtt",
    "signature-two-boms.vtt",
    "signature-websrt.vtt",
)

#: A stand-in for testharness.js: the assertion functions the cases call.
HARNESS = """
() => {
  const fmt = (v) => { try { return JSON.stringify(v); } catch (e) { return String(v); } };
  function fail(message) { throw new Error(message); }
  globalThis.assert_equals = (a, b, m) => { if (!Object.is(a, b) && a !== b)
      fail(`${m || ''} expected ${fmt(b)} got ${fmt(a)}`); };
  globalThis.assert_not_equals = (a, b, m) => { if (a === b) fail(`${m || ''} equal ${fmt(a)}`); };
  globalThis.assert_true = (a, m) => { if (a !== true) fail(`${m || ''} not true: ${fmt(a)}`); };
  globalThis.assert_false = (a, m) => { if (a !== false) fail(`${m || ''} not false: ${fmt(a)}`); };
  globalThis.assert_unreached = (m) => fail(`reached: ${m}`);
}
"""

#: Runs one case's assertions over the cues (a region shared by several cues is one
#: object, as a browser's ``VTTRegion``); returns null or the first failure.
RUN = """
([cues, regions, code]) => {
  const made = {};
  for (const cue of cues) {
    if (cue.region !== null) cue.region = made[cue.region] ||= {...regions[cue.region]};
  }
  try { new Function('cues', code)(cues); return null; } catch (e) { return e.message; }
}
"""


@dataclass(frozen=True)
class Case:
    """One wpt case: ``javascript`` asserts on ``cues``; ``data`` is the file's bytes.
    ``kind``: ``cues`` (the track loads), ``refused`` (the track must fail to load), or
    ``styles`` (asserts on style sheets, which an archive does not render)."""

    name: str
    javascript: str
    data: bytes
    kind: str


def _from_source(text: str) -> tuple[str, bytes]:
    _header, body = text.split("\n\n", 1)
    javascript, vtt_text = body.split("===\n", 1)
    # As tools/build.py, except that "\0" is always NUL: unicode_escape would read "\03"
    # as the octal character U+0003, where the built nulls.vtt has NUL, "3".
    vtt_text = vtt_text.replace("\\0", "\\x00")
    return javascript, bytes(vtt_text, "utf-8").decode("unicode_escape").encode("utf-8")


def _from_page(html: str) -> str:
    built = re.search(
        r"var cues = video\.textTracks\[0\]\.cues;\s*\{\n(.*?)\n\s*\}\s*this\.done\(\);", html, re.S
    )
    if built:
        return built.group(1)
    script = re.search(
        r"<script>\n(.*?)async_test\(.*?step_func_done\(function\(\) \{\n(.*?)\n\s*\}\);",
        html,
        re.S,
    )
    if not script:
        raise ValueError("no cue assertions found")
    helpers, body = script.groups()
    body = body.replace("var track = testTrack.track;", "").replace("track.cues", "cues")
    return helpers + body


def cases(root: Path = HERE) -> dict[str, Case]:
    """Every case under ``root`` (a wpt checkout or its ``webvtt/parsing/file-parsing``)."""
    base = root / "webvtt" / "parsing" / "file-parsing"
    if not base.is_dir():
        base = root
    found: dict[str, Case] = {}
    for source in sorted((base / "support").glob("*.test")):
        javascript, data = _from_source(source.read_text(encoding="utf-8"))
        kind = "styles" if "document." in javascript else "cues"
        found[source.stem] = Case(source.stem, javascript, data, kind)
    for page in sorted((base / "tests").glob("*.html")):
        vtt_file = base / "tests" / "support" / f"{page.stem}.vtt"
        if vtt_file.is_file():
            javascript = _from_page(page.read_text(encoding="utf-8"))
            kind = "styles" if "document." in javascript else "cues"
            found[page.stem] = Case(page.stem, javascript, vtt_file.read_bytes(), kind)
    for name in INVALID_SIGNATURES:
        path = base / "support" / name
        if path.is_file():
            stem = f"signature-invalid/{Path(name).stem}"
            found[stem] = Case(stem, "", path.read_bytes(), "refused")
    return found


def our_cues(data: bytes) -> tuple[list[dict[str, object]], dict[str, dict[str, object]]] | None:
    """The cues our parser keeps as ``VTTCue`` attributes, and the regions they name as
    ``VTTRegion`` attributes; None when the file is refused (a browser's ``error``)."""
    from oralhist.transcripts import vtt

    text = data.decode("utf-8", errors="replace")  # the W3C decoder's rule
    try:
        found = vtt.parse_cues(text)
    except vtt.SignatureError:
        return None
    cues = [
        {
            "id": cue.id,
            "startTime": cue.start_ms / 1000,
            "endTime": cue.end_ms / 1000,
            "text": cue.text,
            **vtt.cue_properties(cue.settings),
        }
        for cue in found.cues
    ]
    regions = {name: vtt.region_properties(region) for name, region in found.regions.items()}
    return cues, regions
