"""Anchoring on small inputs: matching runs, given times, consistency and the gaps between."""

from oralhist.align import anchoring
from oralhist.align.anchoring import Anchor, Gap, Heard
from oralhist.align.text import key_of, spoken_words, tokenise


def heard(words: str, start: int = 0, step: int = 300) -> list[Heard]:
    return [Heard(w, start + i * step, start + (i + 1) * step) for i, w in enumerate(words.split())]


def test_a_run_of_four_matching_words_anchors_them_at_the_heard_times():
    keys = ["we", "went", "down", "to", "the", "river", "every", "sunday"]
    anchors = anchoring.matching_runs(keys, heard("uh we went down to the shore", 1000))
    assert [(a.token, a.start_ms) for a in anchors] == [
        (0, 1300),
        (1, 1600),
        (2, 1900),
        (3, 2200),
        (4, 2500),
    ]


def test_runs_shorter_than_the_minimum_are_not_anchors():
    keys = ["the", "war", "ended", "and", "we", "came", "home"]
    assert anchoring.matching_runs(keys, heard("the war began")) == []


def test_a_word_the_engine_cannot_pronounce_is_never_an_anchor():
    keys = ["in", "", "we", "moved", "to", "town"]
    anchors = anchoring.matching_runs(keys, heard("we moved to town"))
    assert [a.token for a in anchors] == [2, 3, 4, 5]


def test_a_swapped_answer_anchors_only_one_of_the_two_in_order():
    keys = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    # the audio says the second half first
    anchors = anchoring.matching_runs(
        keys, heard("echo foxtrot golf hotel alpha bravo charlie delta")
    )
    tokens = [a.token for a in anchoring.consistent(anchors)]
    assert tokens in ([0, 1, 2, 3], [4, 5, 6, 7])


def test_consistent_drops_anchors_that_go_back_in_time():
    anchors = [Anchor(0, 0, 100), Anchor(1, 100, 200), Anchor(5, 50, 90), Anchor(6, 300, 400)]
    assert [a.token for a in anchoring.consistent(anchors)] == [0, 1, 6]


def test_gaps_hold_the_words_and_audio_between_anchors():
    anchors = [Anchor(2, 1000, 1200), Anchor(3, 1200, 1500), Anchor(7, 4000, 4300)]
    assert anchoring.gaps(anchors, 9, 0, 6000) == [
        Gap(0, 1, 0, 1000),
        Gap(4, 6, 1500, 4000),
        Gap(8, 8, 4300, 6000),
    ]


def test_given_times_pin_first_words_and_skip_marks_out_of_order():
    assert anchoring.given_anchors([0, 4, None, 9, 12], [0, 60_000, 90_000, 30_000, 120_000]) == [
        (0, 0),
        (4, 60_000),
        (12, 120_000),
    ]


def test_windows_from_rough_marks_are_widened_by_the_margin():
    windows = anchoring.windows_from_given([(0, 0), (10, 60_000)], 20, 100_000, 5_000)
    assert windows == [(0, 9, 0, 65_000), (10, 19, 55_000, 100_000)]


def test_no_marks_is_one_window():
    assert anchoring.windows_from_given([], 5, 9_000, 1_000) == [(0, 4, 0, 9_000)]


def test_keys_are_lower_case_without_edge_punctuation():
    assert key_of("Americans:") == "americans"
    assert key_of("\u201cDon\u2019t,") == "don't"
    assert spoken_words("Yes [laughs] we did (inaudible) go") == ["Yes", "we", "did", "go"]


def test_unknown_words_get_an_empty_key():
    tokens = tokenise(["We met in 1957, Mrs. Xyzzq"], lambda k: k in {"we", "met", "in"})
    assert [(t.segment, t.key) for t in tokens] == [
        (0, "we"),
        (0, "met"),
        (0, "in"),
        (0, ""),
        (0, ""),
        (0, ""),
    ]


def test_chunks_cut_at_pauses_between_anchored_words_and_never_too_short():
    anchors = [
        Anchor(0, 0, 400),
        Anchor(1, 400, 800),  # no pause: no cut
        Anchor(3, 6_000, 6_400),  # word 2 between is not anchored: no cut
        Anchor(4, 6_900, 7_200),  # pause of 500 ms after word 3, 6.9 s in: cut
        Anchor(5, 7_500, 7_800),  # a pause, but only 0.6 s after the last cut: no cut
    ]
    assert anchoring.chunks(anchors, 7, 0, 10_000) == [
        Gap(0, 3, 0, 6_650),
        Gap(4, 6, 6_650, 10_000),
    ]


def test_a_long_stretch_without_pauses_is_cut_anyway():
    anchors = [Anchor(i, i * 1_000, i * 1_000 + 1_000) for i in range(200)]
    pieces = anchoring.chunks(anchors, 200, 0, 200_000, max_ms=60_000)
    assert all(p.duration_ms <= 61_000 for p in pieces)
    assert [p.first for p in pieces] == [0, 60, 120, 180]
