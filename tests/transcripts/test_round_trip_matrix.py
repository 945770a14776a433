"""The round-trip matrix over every transcript in ../shared/testdata (issue 13 item 5):
import, export as each format, re-import, and compare with the original segments.

JSON, WebVTT and OHMS must be lossless: times, speakers, text, cue ids and settings,
footnotes and word timings (less only what the format cannot hold by definition: a
WebVTT cue needs an end, so a missing one is the next start, and WebVTT timestamp tags
mark word starts only). SRT and plain text lose only what they have no place for (see
``round_trip.expected``); each file whose content meets such a limit beyond that is a
strict xfail naming it. ``bench/round_trip_matrix.py`` prints the matrix as counts.
"""

import json

import pytest

from oralhist.errors import TranscriptError
from oralhist.transcripts import parse_transcript
from tests.conftest import TESTDATA

from .round_trip import FORMATS, corpus, round_trip

#: (file, format) -> the format's limit that loses something of that file.
LIMITS = {
    ("scihist/ohms_xml/legacy/hanford_OH0139.xml", "txt"): (
        "plain text has no place for footnotes: the OHMS [[note]] on segment 143 is lost"
    ),
    ("scihist/ohms_xml/legacy/smythe_OH0042.xml", "txt"): (
        "plain text has no place for footnotes: the 20 OHMS [[note]]s are lost"
    ),
}
LOSSLESS = {"json", "vtt", "ohms"}

#: Files the archive refuses by its own rules, besides those the reference parsers refuse
#: too (``EXPECTATIONS.json``): they are not round-trip cases, and any other refusal fails.
REFUSED_BY_DESIGN = {
    "webvtt-py/subtitles/no_captions.vtt": "a WebVTT file with no cue at all",
}


#: webvtt-py refuses these; a browser drops their bad block and reads the rest, and so do we.
READ_AS_BROWSERS_DO = {
    "webvtt-py/subtitles/invalid_timeframe.vtt",
    "webvtt-py/subtitles/missing_timeframe.vtt",
}


def expected_refusals() -> set[str]:
    """Files that must be refused: the reference parsers' errors, and ours by design."""
    refused = set(REFUSED_BY_DESIGN)
    for folder in ("webvtt-py", "pysrt"):
        expectations = TESTDATA / folder / "EXPECTATIONS.json"
        if expectations.exists():
            for key, value in json.loads(expectations.read_text()).items():
                if not key.startswith("_") and isinstance(value, dict) and "error" in value:
                    refused.add(f"{folder}/{key}")
    return refused - READ_AS_BROWSERS_DO


def cases():
    refused = expected_refusals() if TESTDATA.exists() else set()
    for path in corpus(TESTDATA):
        name = str(path.relative_to(TESTDATA))
        if name in refused:
            continue
        for fmt in FORMATS:
            reason = LIMITS.get((name, fmt))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(path, fmt, name, marks=marks, id=f"{fmt}-{name}")


def test_no_lossless_format_has_a_limit_listed():
    assert not [key for key in LIMITS if key[1] in LOSSLESS]


@pytest.mark.skipif(not TESTDATA.exists(), reason="../shared/testdata is not present")
@pytest.mark.parametrize(("path", "fmt", "name"), list(cases()))
def test_round_trip(path, fmt, name):
    cell = round_trip(path, fmt, name)
    assert cell.problem != "refused on import", f"{name} is refused on import"
    if not cell.applicable:
        pytest.skip(f"{name}: {cell.problem}")
    assert cell.lossless, cell.problem


@pytest.mark.skipif(not TESTDATA.exists(), reason="../shared/testdata is not present")
def test_the_files_refused_are_the_expected_ones():
    names = {str(p.relative_to(TESTDATA)) for p in corpus(TESTDATA)}
    for name in sorted(expected_refusals() & names):
        with pytest.raises(TranscriptError):
            parse_transcript((TESTDATA / name).read_bytes(), name.rsplit("/", 1)[-1])
