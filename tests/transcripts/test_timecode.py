"""Timecodes: the forms transcripts and deep links use, and formatting for export."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oralhist.transcripts.timecode import format_timecode, parse_t_param, parse_timecode


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("01:02:03.456", 3_723_456),
        ("02:03.4", 123_400),
        ("02:03.45", 123_450),
        ("01:02:03,456", 3_723_456),
        ("00:00:05", 5_000),
        ("0:00:05", 5_000),
        ("100:00:00.000", 360_000_000),
        ("00:00:00.0005", 1),  # rounded to the millisecond
        (" 00:01:00.000 ", 60_000),
    ],
)
def test_parse_timecode(text, ms):
    assert parse_timecode(text) == ms


@pytest.mark.parametrize(
    "text", ["", "junk", "1:2", "00:60:00", "00:00:60.000", "00:00:1d.890", "-00:00:01", "5"]
)
def test_parse_timecode_rejects_junk(text):
    with pytest.raises(ValueError):
        parse_timecode(text)


@pytest.mark.parametrize(
    ("ms", "style", "expected"),
    [
        (62_003, "vtt", "00:01:02.003"),
        (62_003, "srt", "00:01:02,003"),
        (62_003, "hms", "0:01:02"),
        (3_723_999, "hms", "1:02:03"),
        (0, "vtt", "00:00:00.000"),
        (360_000_000, "vtt", "100:00:00.000"),
    ],
)
def test_format_timecode(ms, style, expected):
    assert format_timecode(ms, style=style) == expected


@pytest.mark.parametrize(("ms", "style"), [(-1, "vtt"), (1.5, "vtt"), (True, "vtt"), (1, "x")])
def test_format_timecode_rejects(ms, style):
    with pytest.raises(ValueError):
        format_timecode(ms, style=style)


@given(st.integers(min_value=0, max_value=400 * 3_600_000), st.sampled_from(["vtt", "srt"]))
def test_format_then_parse_is_identity(ms, style):
    assert parse_timecode(format_timecode(ms, style=style)) == ms


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        ("90", 90_000),
        ("90.5", 90_500),
        ("0", 0),
        ("1:30", 90_000),
        ("00:01:30", 90_000),
        ("1:00:00.25", 3_600_250),
        ("1h2m3s", 3_723_000),
        ("2m", 120_000),
        ("45s", 45_000),
        ("1H", 3_600_000),
        ("1m30.5s", 90_500),
    ],
)
def test_parse_t_param(value, ms):
    assert parse_t_param(value) == ms


@pytest.mark.parametrize(
    "value", ["", " ", "abc", "-5", "1:60", "1:60:00", "1e3", "1h2x", "h", "9" * 40, "1::2"]
)
def test_parse_t_param_rejects(value):
    with pytest.raises(ValueError):
        parse_t_param(value)


@pytest.mark.parametrize(
    ("ms", "text"), [(0, "0"), (90_000, "90"), (12_500, "12.5"), (124_991, "124.991"), (1, "0.001")]
)
def test_format_t_param_is_the_inverse_of_parse(ms, text):
    from oralhist.transcripts.timecode import format_t_param

    assert format_t_param(ms) == text
    assert parse_t_param(text) == ms
