"""Word timings from every Whisper-family JSON shape (issue 13 item 2), written back in JSON."""

import json

import pytest

from oralhist.errors import TranscriptError
from oralhist.transcripts import parse_transcript, write_transcript
from oralhist.transcripts.model import Word


def parse(document) -> list:
    return parse_transcript(json.dumps(document).encode(), "w.json").segments


def words(segment) -> list[tuple]:
    return [(w.text, w.start_ms, w.end_ms, w.confidence) for w in segment.words]


def test_openai_whisper_and_faster_whisper_words_with_probability():
    segments = parse(
        {
            "text": " Hello there.",
            "segments": [
                {
                    "id": 0,
                    "start": 0.0,
                    "end": 1.5,
                    "text": " Hello there.",
                    "words": [
                        {"word": " Hello", "start": 0.0, "end": 0.62, "probability": 0.98},
                        {"word": " there.", "start": 0.62, "end": 1.5, "probability": 0.7312},
                    ],
                }
            ],
        }
    )
    assert words(segments[0]) == [("Hello", 0, 620, 0.98), ("there.", 620, 1500, 0.7312)]


def test_openai_api_top_level_words_are_shared_out_by_time():
    segments = parse(
        {
            "task": "transcribe",
            "segments": [
                {"id": 0, "start": 0.0, "end": 1.0, "text": "One two."},
                {"id": 1, "start": 1.0, "end": 2.0, "text": "Three."},
            ],
            "words": [
                {"word": "One", "start": 0.0, "end": 0.4},
                {"word": "two.", "start": 0.5, "end": 0.9},
                {"word": "Three.", "start": 1.1, "end": 1.8},
            ],
        }
    )
    assert [[w.text for w in s.words] for s in segments] == [["One", "two."], ["Three."]]
    assert segments[1].words[0].confidence is None


def test_whisperx_word_speakers_split_a_segment_and_unaligned_words_are_kept():
    segments = parse(
        {
            "segments": [
                {
                    "start": 0.0,
                    "end": 3.0,
                    "text": " Did you go? Yes, in 1957.",
                    "speaker": "SPEAKER_00",
                    "words": [
                        {
                            "word": "Did",
                            "start": 0.0,
                            "end": 0.2,
                            "score": 0.9,
                            "speaker": "SPEAKER_00",
                        },
                        {
                            "word": "you",
                            "start": 0.3,
                            "end": 0.4,
                            "score": 0.8,
                            "speaker": "SPEAKER_00",
                        },
                        {
                            "word": "go?",
                            "start": 0.5,
                            "end": 0.9,
                            "score": 0.9,
                            "speaker": "SPEAKER_00",
                        },
                        {
                            "word": "Yes,",
                            "start": 1.5,
                            "end": 1.9,
                            "score": 0.7,
                            "speaker": "SPEAKER_01",
                        },
                        {
                            "word": "in",
                            "start": 2.0,
                            "end": 2.1,
                            "score": 0.9,
                            "speaker": "SPEAKER_01",
                        },
                        {"word": "1957."},
                    ],
                }
            ],
            "word_segments": [],
        }
    )
    assert [(s.start_ms, s.end_ms, s.speaker, s.text) for s in segments] == [
        (0, 1500, "SPEAKER_00", "Did you go?"),
        (1500, 3000, "SPEAKER_01", "Yes, in 1957."),
    ]
    assert words(segments[1])[-1] == ("1957.", None, None, None)


def test_whisperx_word_segments_fill_segments_without_words():
    segments = parse(
        {
            "segments": [{"start": 0.0, "end": 1.0, "text": "Hi there"}],
            "word_segments": [
                {"word": "Hi", "start": 0.0, "end": 0.3, "score": 0.5},
                {"word": "there", "start": 0.4, "end": 1.0, "score": 0.25},
            ],
        }
    )
    assert words(segments[0]) == [("Hi", 0, 300, 0.5), ("there", 400, 1000, 0.25)]


def test_whisper_cpp_oj():
    segments = parse(
        {
            "systeminfo": "AVX = 1",
            "model": {"type": "base"},
            "result": {"language": "en"},
            "transcription": [
                {
                    "timestamps": {"from": "00:00:00,000", "to": "00:00:07,600"},
                    "offsets": {"from": 0, "to": 7600},
                    "text": " And so my fellow Americans",
                },
                {
                    "timestamps": {"from": "00:00:07,600", "to": "00:00:11,000"},
                    "offsets": {"from": 7600, "to": 11000},
                    "text": " ask not.",
                },
            ],
        }
    )
    assert [(s.start_ms, s.end_ms, s.text) for s in segments] == [
        (0, 7600, "And so my fellow Americans"),
        (7600, 11000, "ask not."),
    ]


def test_whisper_cpp_ojf_tokens_become_words_and_di_speakers():
    token = lambda text, start, end, p: {  # noqa: E731
        "text": text,
        "timestamps": {"from": "x", "to": "y"},
        "offsets": {"from": start, "to": end},
        "id": 1,
        "p": p,
        "t_dtw": -1,
    }
    segments = parse(
        {
            "transcription": [
                {
                    "offsets": {"from": 0, "to": 2000},
                    "text": " Americans ask",
                    "tokens": [
                        token("[_BEG_]", 0, 0, 0.99),
                        token(" Americ", 0, 500, 0.9),
                        token("ans", 500, 900, 0.6),
                        token(" ask", 1000, 2000, 0.8),
                    ],
                    "speaker": "1",
                }
            ]
        }
    )
    assert segments[0].speaker == "SPEAKER_1"
    assert words(segments[0]) == [("Americans", 0, 900, 0.6), ("ask", 1000, 2000, 0.8)]


def test_whisper_cpp_tinydiarize_turns_alternate_speakers():
    items = [
        {"offsets": {"from": 0, "to": 1000}, "text": " Hello.", "speaker_turn_next": True},
        {"offsets": {"from": 1000, "to": 2000}, "text": " Hi,", "speaker_turn_next": False},
        {"offsets": {"from": 2000, "to": 3000}, "text": " how are you", "speaker_turn_next": True},
        {"offsets": {"from": 3000, "to": 4000}, "text": " Fine.", "speaker_turn_next": False},
    ]
    segments = parse({"transcription": items})
    assert [s.speaker for s in segments] == ["SPEAKER_A", "SPEAKER_B", "SPEAKER_B", "SPEAKER_A"]


def test_words_round_trip_through_our_json_export():
    segments = parse(
        {
            "segments": [
                {
                    "start": 0,
                    "end": 1,
                    "text": "x y",
                    "words": [
                        {"word": "x", "start": 0, "end": 0.5, "probability": 0.5},
                        {"word": "y", "start": 0.5, "end": 1, "probability": 1},
                    ],
                }
            ]
        }
    )
    out = write_transcript(segments, "json")
    assert json.loads(out)["segments"][0]["words"] == [
        {"text": "x", "start_ms": 0, "end_ms": 500, "confidence": 0.5},
        {"text": "y", "start_ms": 500, "end_ms": 1000, "confidence": 1.0},
    ]
    assert parse_transcript(out.encode(), "again.json").segments == segments


@pytest.mark.parametrize(
    ("word", "reason"),
    [
        ({"word": "x", "start": 1, "end": 0.5}, "ends before it starts"),
        ({"word": "x", "start": 0, "end": 1, "probability": 2}, "between 0 and 1"),
        ({"word": 5, "start": 0, "end": 1}, "must be a string"),
        ({"word": "x", "start": 10**400, "end": 1}, "at most 100 hours"),
    ],
)
def test_bad_words_are_refused_naming_segment_and_word(word, reason):
    document = {"segments": [{"start": 0, "end": 1, "text": "x", "words": [word]}]}
    with pytest.raises(TranscriptError) as caught:
        parse_transcript(json.dumps(document).encode(), "w.json")
    assert "segment 1 word 1" in caught.value.reason
    assert reason in caught.value.reason


def test_word_confidence_is_rounded_to_four_places():
    assert Word("x", 0, 1, 0.123456).confidence == 0.1235
