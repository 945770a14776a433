"""OHMS XML: current and legacy forms, index points, and hostile XML."""

import re
import time
import tracemalloc

import pytest

from oralhist.errors import TranscriptError
from oralhist.transcripts import ohms, parse_transcript, write_transcript
from oralhist.transcripts.model import IndexPoint, Segment
from tests.conftest import TESTDATA

OHMS_DIR = TESTDATA / "scihist" / "ohms_xml"


def real(name: str):
    path = OHMS_DIR / name
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return parse_transcript(path.read_bytes(), path.name)


def legacy(transcript: str, sync: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ROOT xmlns="https://www.weareavp.com/nunncenter/ohms"><record>'
        f"<title>T</title><interviewee>Ann</interviewee><sync>{sync}</sync>\n"
        f"<transcript>{transcript}</transcript></record></ROOT>"
    )


def test_current_form_small_sample():
    result = real("small-sample-vtt-ohms.xml")
    assert result.format == "ohms"
    assert len(result.segments) == 6
    assert {s.speaker for s in result.segments} == {"SCHNEIDER", "NAME OF INTERVIEWEE"}
    assert result.segments[0].start_ms == 3_603_000
    assert result.segments[0].text.startswith("Today is December 16, 2024.")
    # OHMS ends the last cue at 00:00:00.000: an unknown end, warned, not an error.
    assert result.segments[-1].end_ms is None
    assert result.warnings[0].line == result.lines[-1]
    assert result.header["title"] == "Jonathan Rochkind Test Record Only"
    # Lines are lines of the XML file (the CDATA opens on line 41, the first cue on 46).
    assert result.lines[0] == 46


def test_current_form_chappelear_keeps_paragraph_breaks():
    result = real("chappelear-ohmsvtt-example.xml")
    assert len(result.segments) == 13
    assert result.segments[1] == Segment(29000, 29000, "CHAPPELEAR", "Burnet.")
    assert "\u2019" in result.segments[2].text  # curly apostrophes survive


def test_index_points_with_hyperlinks():
    result = real("index_hyperlinks_example.xml")
    assert result.segments == []
    first, second = result.index_points
    assert first.start_ms == 1000 and first.title == "Pre-Interview Remarks"
    assert first.hyperlinks == ()
    assert second.start_ms == 3_473_000
    assert "DuPont (E.I. du Pont de Nemours & Co.)" in second.keywords
    assert len(second.hyperlinks) == 3
    assert second.hyperlinks[0] == (
        "https://digital.sciencehistory.org/works/cf95jc49c",
        "Oral history interview with Hubert N. Alyea",
    )


def test_empty_record_is_not_an_error():
    result = real("empty_ohms.xml")
    assert result.segments == []
    assert result.header["title"] == "Oral history interview with Hubert N. Alyea"


def test_legacy_duarte_turns_and_sync_times():
    result = real("legacy/duarte_OH0344.xml")
    assert {s.speaker for s in result.segments} == {"BROCK", "DUARTE", None}
    assert result.segments[-1] == Segment(
        result.segments[-1].start_ms, None, None, "[END OF INTERVIEW]"
    )
    assert result.segments[0].text.startswith("This is an oral history interview with Ron Duarte")
    assert result.segments[1] == Segment(
        result.segments[1].start_ms, result.segments[1].end_ms, "DUARTE", "On 7 May 1930."
    )
    starts = [s.start_ms for s in result.segments]
    assert all(isinstance(s, int) for s in starts)
    assert starts == sorted(starts)
    assert 60_000 in starts  # the first sync point, exactly
    assert result.header["interviewee"] == "Ronald Duarte"
    assert not [w for w in result.warnings if "overlap" in w.message]


def test_legacy_footnotes_become_notes_of_the_segments_that_cite_them():
    result = real("legacy/smythe_OH0042.xml")
    assert not any("[[" in s.text or "[[" in (s.note or "") for s in result.segments)
    cited = [n for s in result.segments if s.note for n in re.findall(r"^\[(\d+)\]", s.note, re.M)]
    assert sorted(set(cited), key=int) == [str(n) for n in range(1, 21)]  # all 20 kept
    assert not [w for w in result.warnings if w.message.startswith("footnote")]
    assert result.segments[0].speaker is None  # "[untranscribed pre-interview discussion]"
    first = next(s for s in result.segments if s.note)
    assert first.note.startswith("[1] Hubert N. Alyea, interview by Jeffrey L. Sturchio")


def test_every_legacy_file_imports():
    for path in sorted((OHMS_DIR / "legacy").glob("*.xml")) if OHMS_DIR.exists() else []:
        result = parse_transcript(path.read_bytes(), path.name)
        assert result.format == "ohms"


def test_legacy_sync_semantics():
    # Words count from the label: line 1 word 3 is "two". The k-th point is at k minutes.
    text = "ANN: one two three\nfour five\n\nBOB: six seven\neight"
    result = ohms.parse(legacy(text, "1:|1(3)|2(2)|5(1)").encode(), "l.xml")
    assert [(s.start_ms, s.speaker, s.text) for s in result.segments] == [
        (0, "ANN", "one"),
        (60_000, "ANN", "two three four"),
        (120_000, "ANN", "five"),
        (135_000, "BOB", "six seven"),  # estimated: 1 word of 4 between the sync points
        (180_000, "BOB", "eight"),
    ]
    assert [s.end_ms for s in result.segments] == [60_000, 120_000, 135_000, 180_000, None]
    assert result.lines == [3, 3, 4, 6, 7]
    assert result.header == {"title": "T", "interviewee": "Ann"}


def test_legacy_without_sync_is_untimed_and_footnotes_become_notes():
    text = (
        "ANN: a claim.[[footnote]]1[[/footnote]] more\n\n[END OF INTERVIEW]\n\n"
        "[[footnotes]]\n[[note]]A source, 1999.[[/note]]\n"
        "[[note]]Never cited.[[/note]]\n[[/footnotes]]"
    )
    result = ohms.parse(legacy(text).encode(), "l.xml")
    assert result.segments == [
        Segment(None, None, "ANN", "a claim. more", note="[1] A source, 1999."),
        Segment(None, None, None, "[END OF INTERVIEW]"),
    ]
    assert result.warnings[0].message == "footnote 2 is referenced nowhere: Never cited."
    assert result.warnings[0].line == 9


def test_legacy_headings_turns_in_a_paragraph_and_label_only_turns():
    text = (
        "ANN: Did you go?\n\nBOB: Yes. ANN: Really? BOB: Yes.\n\n"
        "APPENDIX: SCIENTIST IN A JEEP\n\nIn January 1945 we left.\n\n"
        "ANN:\nthe next morning\n\n[END OF AUDIO FILE 1.6]"
    )
    # sync: minute 1 on the word after the label "ANN:" alone on its line (line 10 word 1),
    # minute 2 inside the bracketed note (line 12 word 3).
    result = ohms.parse(legacy(text, "1:|10(1)|12(3)").encode(), "l.xml")
    assert [(s.speaker, s.text) for s in result.segments] == [
        ("ANN", "Did you go?"),
        ("BOB", "Yes."),
        ("ANN", "Really?"),
        ("BOB", "Yes."),
        (None, "APPENDIX: SCIENTIST IN A JEEP"),
        (None, "In January 1945 we left."),  # the heading ends BOB's turn
        ("ANN", "the next morning"),  # no segment of the label alone
        (None, "[END OF AUDIO FILE 1.6]"),  # not split at the sync point inside it
    ]
    assert result.segments[6].start_ms == 60_000
    assert result.segments[7].start_ms == 120_000


def test_record_level_fields_and_gps_reach_the_header():
    xml = (
        f'<?xml version="1.0"?><ROOT xmlns="{ohms.NAMESPACE}"><record><title>T</title>'
        "<description>About it.</description><subject>Chemistry</subject>"
        "<subject>Teflon; Patents</subject><keyword>lab</keyword><rights>In copyright</rights>"
        "<usage>Cite as: T.</usage><funding>A grant.</funding><language>English</language>"
        "<media_url>https://example.org/a.mp3</media_url><gps>39.95, -75.15</gps>"
        "<gps_zoom>12</gps_zoom><gps_text>Philadelphia</gps_text></record></ROOT>"
    )
    header = ohms.parse(xml.encode(), "r.xml").header
    assert header == {
        "title": "T",
        "description": "About it.",
        "subjects": "Chemistry; Teflon; Patents",
        "keywords": "lab",
        "rights": "In copyright",
        "usage": "Cite as: T.",
        "funding": "A grant.",
        "language": "English",
        "media_url": "https://example.org/a.mp3",
        "gps": "39.95, -75.15",
        "gps_zoom": "12",
        "gps_text": "Philadelphia",
    }


def test_current_form_continuation_cues_keep_the_speaker():
    result = real("chappelear-ohmsvtt-example.xml")
    assert len(result.segments) == 13
    assert all(s.speaker for s in result.segments)


def test_legacy_bad_sync_points_are_ignored_with_warnings():
    result = ohms.parse(legacy("A: one two\nthree", "1:|2(1)|1(1)|9(9)|junk").encode(), "l.xml")
    assert [s.start_ms for s in result.segments] == [0, 60_000]
    assert any("backwards" in w.message for w in result.warnings)
    assert any("not in the text" in w.message for w in result.warnings)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<ROOT><record><title>&lol9;</title><transcript>&lol9;</transcript></record></ROOT>
"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE ROOT [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ROOT><record><transcript>A: &xxe;</transcript></record></ROOT>
"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE ROOT SYSTEM "http://example.invalid/ohms.dtd">
<ROOT><record><transcript>A: hi</transcript></record></ROOT>
"""


@pytest.mark.parametrize(
    "payload", [BILLION_LAUGHS, XXE, EXTERNAL_DTD], ids=["laughs", "xxe", "dtd"]
)
def test_hostile_xml_is_refused_fast_with_bounded_memory(payload):
    tracemalloc.start()
    began = time.perf_counter()
    try:
        with pytest.raises(TranscriptError) as caught:
            parse_transcript(payload, "evil.xml")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - began < 2
    assert peak < 5 * 1024 * 1024
    assert "evil.xml" in str(caught.value)
    assert "DTD" in caught.value.reason
    assert "root:" not in str(caught.value)


@pytest.mark.parametrize(
    ("data", "reason", "line"),
    [
        (b"<?xml version='1.0'?>\n<ROOT><record>\n<title>x</record></ROOT>", "well-formed", 3),
        (b"<?xml version='1.0'?>\n<tt xmlns='http://www.w3.org/ns/ttml'/>", "not an OHMS", 1),
        (b"<ROOT><other/></ROOT>", "not an OHMS", 1),
    ],
)
def test_bad_xml_names_the_problem(data, reason, line):
    with pytest.raises(TranscriptError) as caught:
        parse_transcript(data, "bad.xml")
    assert reason in caught.value.reason
    assert caught.value.line == line


def test_writer_produces_current_form_that_reads_back():
    segments = [Segment(0, 2000, "ANN", "Hello ]]> & <b>"), Segment(2000, 5000, None, "Bye")]
    points = [
        IndexPoint(
            60_000,
            "Childhood",
            partial_transcript="ANN: Hello",
            synopsis="About school.",
            keywords=("School", "Family"),
            subjects=("Education",),
            hyperlinks=(("https://example.org/?a=1&b=2", "A link"),),
        )
    ]
    metadata = {"title": "Interview", "interviewee": "Ann", "date": "2024-01-02"}
    out = write_transcript(segments, "ohms", index_points=points, metadata=metadata)
    assert "<vtt_transcript><![CDATA[WEBVTT" in out
    result = parse_transcript(out.encode(), "out.xml")
    assert result.segments == segments
    assert result.index_points == points
    assert result.header == metadata


def test_index_point_gps_is_read_and_written_back():
    xml = (
        f'<?xml version="1.0"?><ROOT xmlns="{ohms.NAMESPACE}"><record><title>T</title>'
        "<index><point><time>61</time><title>Trip</title><gpspoints><gps>39.95, -75.15</gps>"
        "<gps_zoom>12</gps_zoom><gps_text>Philadelphia</gps_text></gpspoints></point></index>"
        "</record></ROOT>"
    )
    point = ohms.parse(xml.encode(), "g.xml").index_points[0]
    assert (point.gps, point.gps_zoom, point.gps_text) == ("39.95, -75.15", "12", "Philadelphia")
    for fmt, name in (("ohms", "again.xml"), ("json", "again.json")):
        out = write_transcript([Segment(0, 1000, None, "x")], fmt, index_points=[point])
        assert parse_transcript(out.encode(), name).index_points == [point]
