"""Run the W3C web-platform-tests WebVTT file-parsing cases through our WebVTT parser.

    .venv/bin/python bench/wpt_webvtt.py [PATH] [--verbose]

PATH is a folder with wpt's ``webvtt/parsing/file-parsing/`` part (a wpt checkout, or that
folder itself); by default the copy of the cases kept in ``tests/transcripts/wpt_webvtt/``
(every case whose input the public text stores hold; see its README).

Each case is a WebVTT file and the JavaScript assertions a browser must satisfy on the
track's ``cues`` (id, startTime, endTime, text, align, line, position, size, vertical,
region...). The assertions are run unchanged in Chromium (through Playwright, as the browser
tests do) against the cues that ``oralhist.transcripts.vtt.parse_cues`` returns, with a
minimal stand-in for testharness.js (``tests/transcripts/wpt_cases.py``). A file our parser
refuses for its signature counts as zero cues and a failed load, as a browser fires
``error`` and shows none; the ``signature-invalid`` files must be refused. Cases that assert
on something other than cues (CSS style sheets) are listed as not applicable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.transcripts.wpt_cases import HARNESS, HERE, RUN, cases, our_cues  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("wpt", type=Path, nargs="?", default=HERE, help="a folder of wpt cases")
    parser.add_argument("--verbose", action="store_true", help="show each failure")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    found = cases(args.wpt)
    if not found:
        print(f"no WebVTT file-parsing cases under {args.wpt}", file=sys.stderr)
        return 2
    passed, failed, not_applicable = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium)
        page = browser.new_page()
        page.evaluate(HARNESS)
        for name, case in sorted(found.items()):
            if case.kind == "styles":
                not_applicable.append(name)
                continue
            ours = our_cues(case.data)
            if case.kind == "refused":
                problem = None if ours is None else f"loaded, with {len(ours[0])} cues"
            elif ours is None:
                problem = "refused (error event)"
            else:
                cues, regions = ours
                problem = page.evaluate(
                    RUN, json.loads(json.dumps([cues, regions, case.javascript]))
                )
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
