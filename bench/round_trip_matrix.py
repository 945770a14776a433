"""The round-trip matrix: every transcript in ../shared/testdata imported, exported in each
format, re-imported, and compared with the original segments (issue 13 item 5).

    .venv/bin/python bench/round_trip_matrix.py [--testdata PATH] [--verbose]

A cell passes when the re-import equals the original exactly (times, speaker, text, cue id,
cue settings, note, words), after only the losses the target format imposes, each named in
``tests/transcripts/test_round_trip_matrix.py`` (e.g. SRT has no place for word timings).
Files that the archive refuses, and timed-only formats for untimed transcripts, are
counted as not applicable. Before issue 13 this compared (start, end, speaker, text).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.transcripts.round_trip import FORMATS, matrix  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--testdata", type=Path, default=ROOT.parent / "shared" / "testdata")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    cells = matrix(args.testdata)
    for fmt in FORMATS:
        mine = [c for c in cells if c.fmt == fmt and c.applicable]
        good = [c for c in mine if c.lossless]
        print(f"{fmt:>5}: {len(good)}/{len(mine)} lossless")
        for cell in mine if args.verbose else ():
            if not cell.lossless:
                print(f"        {cell.name}: {cell.problem}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
