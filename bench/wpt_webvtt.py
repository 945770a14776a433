"""Run the W3C web-platform-tests WebVTT file-parsing cases through our WebVTT parser.

    .venv/bin/python bench/wpt_webvtt.py PATH/TO/wpt [--verbose]

PATH is a local checkout of https://github.com/web-platform-tests/wpt (or any folder with
its ``webvtt/parsing/file-parsing/`` part). Nothing of wpt is copied into this project.

Each case is a WebVTT file and the JavaScript assertions a browser must satisfy on the
track's ``cues`` (id, startTime, endTime, text, align, line, position, size, vertical,
region...). Cases are read from the built ``tests/<name>.html`` + ``tests/support/<name>.vtt``
pairs, or, where a checkout only has the sources, from ``support/<name>.test`` (the
format that wpt's ``tools/build.py`` reads). The assertions are run unchanged in Chromium
(through Playwright, as the browser tests do) against the cues that
``oralhist.transcripts.vtt.parse_cues`` returns, with a minimal stand-in for testharness.js.
A file our parser refuses for its signature counts as zero cues, as a browser fires
``error`` and shows none. Cases that assert on something other than cues (CSS style sheets)
are listed as not applicable.

Before issue 13 the parser had no ``parse_cues``; with an old checkout on ``PYTHONPATH``
the script falls back to ``vtt.parse`` (segments, refused files as failures), which is how
the "before" figure was measured.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

HARNESS = """
(cues) => {
  const failures = [];
  const fmt = (v) => { try { return JSON.stringify(v); } catch (e) { return String(v); } };
  function fail(message) { throw new Error(message); }
  globalThis.assert_equals = (a, b, m) => { if (!Object.is(a, b) && a !== b)
      fail(`${m || ''} expected ${fmt(b)} got ${fmt(a)}`); };
  globalThis.assert_not_equals = (a, b, m) => { if (a === b) fail(`${m || ''} equal ${fmt(a)}`); };
  globalThis.assert_true = (a, m) => { if (a !== true) fail(`${m || ''} not true: ${fmt(a)}`); };
  globalThis.assert_false = (a, m) => { if (a !== false) fail(`${m || ''} not false: ${fmt(a)}`); };
  return cues;
}
"""


def js_block(html: str) -> str:
    match = re.search(
        r"var cues = video\.textTracks\[0\]\.cues;\s*\{\n(.*?)\n\s*\}\s*this\.done\(\);",
        html,
        re.S,
    )
    if not match:
        raise ValueError("no cue assertions found")
    return match.group(1)


def cases(root: Path) -> dict[str, tuple[str, bytes]]:
    """``{name: (javascript, vtt bytes)}`` from a wpt checkout."""
    base = root / "webvtt" / "parsing" / "file-parsing"
    if not base.is_dir():
        base = root
    found: dict[str, tuple[str, bytes]] = {}
    for source in sorted((base / "support").glob("*.test")):
        text = source.read_text(encoding="utf-8")
        _header, body = text.split("\n\n", 1)
        javascript, vtt_text = body.split("===\n", 1)
        # As tools/build.py, except that "\0" is always NUL: unicode_escape would read
        # "\03" as the octal character U+0003, where the checked-in nulls.vtt has NUL, "3".
        vtt_text = vtt_text.replace("\\0", "\\x00")
        vtt = bytes(vtt_text, "utf-8").decode("unicode_escape").encode("utf-8")
        found[source.stem] = (javascript, vtt)
    for page in sorted((base / "tests").glob("*.html")):
        vtt_file = base / "tests" / "support" / f"{page.stem}.vtt"
        if vtt_file.is_file():
            found[page.stem] = (js_block(page.read_text(encoding="utf-8")), vtt_file.read_bytes())
    return found


def our_cues(data: bytes) -> list[dict[str, object]]:
    """The cues our parser keeps, as ``VTTCue`` attributes."""
    from oralhist.transcripts import vtt

    text = data.decode("utf-8", errors="replace")  # the W3C decoder's rule
    if not hasattr(vtt, "parse_cues"):  # before issue 13: the archive parser only
        from oralhist.errors import TranscriptError

        try:
            result = vtt.parse(data, "wpt.vtt")
        except TranscriptError:
            return []
        return [
            {
                "id": "",
                "startTime": s.start_ms / 1000,
                "endTime": (s.end_ms or 0) / 1000,
                "text": s.text,
                **vtt_defaults(),
            }
            for s in result.segments
        ]
    try:
        found = vtt.parse_cues(text)
    except vtt.SignatureError:
        return []
    return [
        {
            "id": cue.id,
            "startTime": cue.start_ms / 1000,
            "endTime": cue.end_ms / 1000,
            "text": cue.text,
            **vtt.cue_properties(cue.settings),
        }
        for cue in found.cues
    ]


def vtt_defaults() -> dict[str, object]:
    return {
        "align": "center",
        "line": "auto",
        "snapToLines": True,
        "lineAlign": "start",
        "position": "auto",
        "positionAlign": "auto",
        "size": 100,
        "vertical": "",
        "region": None,
    }


RUN = """
([cues, code]) => {
  const regions = {};
  for (const cue of cues) {
    if (cue.region !== null) cue.region = regions[cue.region] ||= {id: cue.region};
  }
  try { new Function('cues', code)(cues); return null; } catch (e) { return e.message; }
}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wpt", type=Path, help="a local checkout of web-platform-tests/wpt")
    parser.add_argument("--verbose", action="store_true", help="show each failure")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from playwright.sync_api import sync_playwright

    found = cases(args.wpt)
    if not found:
        print(f"no WebVTT file-parsing cases under {args.wpt}", file=sys.stderr)
        return 2
    passed, failed, not_applicable = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium)
        page = browser.new_page()
        page.evaluate(HARNESS, [])
        for name, (javascript, data) in sorted(found.items()):
            if "document." in javascript:
                not_applicable.append(name)
                continue
            cues = our_cues(data)
            problem = page.evaluate(RUN, [json.loads(json.dumps(cues)), javascript])
            (failed if problem else passed).append((name, problem))
        browser.close()
    for name, problem in failed if args.verbose else ():
        print(f"FAIL {name}: {problem}")
    print(
        f"{len(passed)} of {len(passed) + len(failed)} WebVTT file-parsing cases pass "
        f"({len(not_applicable)} not about cues: {', '.join(not_applicable) or 'none'})"
    )
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
