"""Round trips: parse(write(segments)) == segments for every format, within the limits each
format documents (SRT and txt keep speakers when every segment has one; txt rebuilds ends
from the next start; OHMS index times are whole seconds)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oralhist.errors import TranscriptError
from oralhist.transcripts import parse_transcript, write_transcript
from oralhist.transcripts.model import IndexPoint, Segment, normalize_text

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WORDS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéüßçøÉ中文日本語"
PLAIN = WORDS + "0123456789 .,!?'\"-()"
RICH = PLAIN + "<>&:;[]{}/\\#*\n\t"
UPPER_NAMES = ["SCHNEIDER", "KC", "NAME OF INTERVIEWEE", "Q", "JOSÉ ÁLVAREZ"]
NAMES = [*UPPER_NAMES, "Sarah Schneider", "Dr. Who & <Co>", "José"]


def texts(alphabet: str):
    return st.text(alphabet, min_size=1, max_size=60).filter(
        lambda t: normalize_text(t) and any(c.isalpha() for c in t)
    )


@st.composite
def timed_segments(draw, alphabet=RICH, contiguous=False):
    speakers = st.none() | st.sampled_from(NAMES)
    count = draw(st.integers(1, 8))
    start = draw(st.integers(0, 10_000_000))
    segments = []
    for _ in range(count):
        length = draw(st.integers(0, 600_000))
        gap = 0 if contiguous else draw(st.integers(0, 5_000))
        segments.append(Segment(start, start + length, draw(speakers), draw(texts(alphabet))))
        start += length + gap
    if contiguous:
        segments[-1] = Segment(segments[-1].start_ms, None, segments[-1].speaker, segments[-1].text)
    return segments


def all_or_none(segments: list[Segment], with_speakers: bool, names=UPPER_NAMES) -> list[Segment]:
    return [
        Segment(s.start_ms, s.end_ms, names[i % len(names)] if with_speakers else None, s.text)
        for i, s in enumerate(segments)
    ]


def reimport(segments, fmt, **kwargs):
    out = write_transcript(segments, fmt, **kwargs)
    return parse_transcript(out.encode("utf-8"), f"round.{'xml' if fmt == 'ohms' else fmt}")


@SETTINGS
@given(timed_segments())
def test_vtt(segments):
    assert reimport(segments, "vtt").segments == segments


@SETTINGS
@given(timed_segments(alphabet=PLAIN + "\n&;/#*"), st.booleans())
def test_srt(segments, with_speakers):
    segments = all_or_none(segments, with_speakers, NAMES[:6])
    assert reimport(segments, "srt").segments == segments


@SETTINGS
@given(timed_segments(alphabet=PLAIN + "\n&;/#*<>{}", contiguous=True), st.booleans())
def test_txt_timed(segments, with_speakers):
    segments = all_or_none(segments, with_speakers)
    metadata = {"interviewee": "Ann Smith", "date": "1 May 1990", "location": "Here"}
    result = reimport(segments, "txt", metadata=metadata)
    assert result.segments == segments
    assert result.header == metadata


@SETTINGS
@given(st.lists(texts(PLAIN + "&;/#*<>"), min_size=1, max_size=8), st.booleans())
def test_txt_untimed(paragraphs, with_speakers):
    if not with_speakers:  # one segment per paragraph: no line breaks inside
        paragraphs = [" ".join(p.split()) for p in paragraphs]
    segments = all_or_none([Segment(None, None, None, p) for p in paragraphs], with_speakers)
    assert reimport(segments, "txt").segments == segments


index_points = st.lists(
    st.builds(
        IndexPoint,
        start_ms=st.integers(0, 100_000).map(lambda s: s * 1000),
        title=texts(RICH),
        partial_transcript=st.just("") | texts(RICH),
        synopsis=st.just("") | texts(RICH),
        keywords=st.lists(texts(PLAIN), max_size=3).map(tuple),
        subjects=st.lists(texts(PLAIN), max_size=3).map(tuple),
        hyperlinks=st.lists(
            st.tuples(st.sampled_from(["https://a.example/x?y=1&z=2", "http://b/"]), texts(RICH)),
            max_size=2,
        ).map(tuple),
    ),
    max_size=4,
)


@SETTINGS
@given(
    timed_segments()
    | st.lists(
        st.builds(Segment, st.none(), st.none(), st.none() | st.sampled_from(NAMES), texts(RICH)),
        min_size=1,
        max_size=5,
    ),
    index_points,
)
def test_json(segments, points):
    result = reimport(segments, "json", index_points=points, metadata={"title": "T <&>"})
    assert result.segments == segments
    assert result.index_points == points
    assert result.header == {"title": "T <&>"}


@SETTINGS
@given(timed_segments(), index_points)
def test_ohms(segments, points):
    metadata = {"title": "T <&> ]]>", "interviewee": "A", "interviewer": "B", "date": "1990"}
    result = reimport(segments, "ohms", index_points=points, metadata=metadata)
    assert result.segments == segments
    assert result.index_points == points
    assert result.header == metadata


@pytest.mark.parametrize("fmt", ["vtt", "srt", "txt", "json", "ohms"])
def test_writers_accept_an_empty_text_segment(fmt):
    segments = [Segment(0, 1000, "KC", ""), Segment(1000, 2000, "KC", "x")]
    expected = [
        Segment(0, 1000, "KC", ""),
        Segment(1000, None if fmt == "txt" else 2000, "KC", "x"),
    ]
    assert reimport(segments, fmt).segments == expected


PIECES = [
    "WEBVTT\n",
    "\n",
    "\n\n",
    "00:00:01.000 --> 00:00:02.000",
    "00:00:01,000 --> 00:00:00,500",
    "1\n",
    "<v A>",
    "</c>",
    "&amp;",
    "NOTE ",
    "KC: ",
    "[00:00:05] ",
    "[[footnote]]1[[/footnote]]",
    '{"segments": [',
    '{"start": 1, "end": 2, "text": "x"}',
    "]}",
    "<ROOT><record>",
    "<transcript>A: hi</transcript>",
    "<sync>1:|1(2)|9(9)</sync>",
    "</record></ROOT>",
    "é",
    "\r",
    "\ufeff",
    "\x00",
    "INTERVIEWEE: X\n",
    "<",
    "-->",
    "[",
    "NOTES\n",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES) | st.text(max_size=5), max_size=30).map("".join)
    | st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
    st.sampled_from(["f.vtt", "f.srt", "f.txt", "f.json", "f.xml", "f"]),
)
def test_arbitrary_input_imports_or_is_refused_by_name(text, filename):
    """No input gives anything but a result or a TranscriptError naming the file."""
    for data in (text.encode("utf-8", "surrogatepass"), text.encode("latin-1", "replace")):
        try:
            parse_transcript(data, filename)
        except TranscriptError as error:
            assert str(error).startswith(filename)
