"""The round-trip matrix over the third-party corpus (used by test_round_trip_matrix.py and
bench/round_trip_matrix.py): import, export as each format, re-import, compare."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from itertools import pairwise
from pathlib import Path

from oralhist.errors import TranscriptError
from oralhist.transcripts import parse_transcript, write_transcript
from oralhist.transcripts.model import Segment, Word

FORMATS = ("json", "vtt", "ohms", "srt", "txt")
TIMED_ONLY = {"vtt", "ohms", "srt"}
SUFFIXES = {".vtt", ".srt", ".sbv", ".xml", ".txt", ".json", ".docx"}
FOLDERS = (
    "webvtt-py/subtitles",
    "pysrt/static",
    "cdown-srt/srt_tools_files",
    "scihist/ohms_xml",
    "scihist/webvtt",
    "scihist/plain_text_transcript",
    "scihist/oh_docx",
)


def corpus(testdata: Path) -> list[Path]:
    files = []
    for folder in FOLDERS:
        directory = testdata / folder
        if directory.is_dir():
            files += sorted(
                p for p in directory.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()
            )
    return files


def _clear(segment: Segment, **changes) -> Segment:
    """``replace`` limited to the fields the model has (the bench also runs older code)."""
    names = {f.name for f in fields(segment)}
    return replace(segment, **{k: v for k, v in changes.items() if k in names})


def filled_ends(segments: list[Segment]) -> list[Segment]:
    """What a format that needs an end does with a missing one: the next start (or the
    segment's own start for the last), as ``vtt.cue_times`` writes it."""
    out = []
    for i, s in enumerate(segments):
        if s.start_ms is not None and s.end_ms is None:
            following = segments[i + 1].start_ms if i + 1 < len(segments) else None
            end = following if following is not None and following >= s.start_ms else s.start_ms
            s = replace(s, end_ms=end)
        out.append(s)
    return out


def expected(segments: list[Segment], fmt: str) -> list[Segment]:
    """The original segments after the losses ``fmt`` itself imposes, and nothing else."""
    if fmt == "json":
        return list(segments)
    if fmt in {"vtt", "ohms"}:
        # WebVTT cues need an end; timestamp tags mark word starts only
        return [_clear(s, words=stamped_words(s)) for s in filled_ends(segments)]
    if fmt == "srt":  # SRT: no ids, settings, notes or word timings
        return [
            _clear(s, cue_id=None, cue_settings=None, note=None, words=())
            for s in filled_ends(segments)
        ]
    # txt: [hh:mm:ss] starts only (an end is the next start); no ids, settings, words
    timed = [i for i, s in enumerate(segments) if s.start_ms is not None]
    next_start = {a: segments[b].start_ms for a, b in pairwise(timed)}
    return [
        _clear(
            s,
            end_ms=max(next_start[i], s.start_ms)
            if s.start_ms is not None and i in next_start
            else None,
            cue_id=None,
            cue_settings=None,
            words=(),
        )
        for i, s in enumerate(segments)
    ]


def stamped_words(segment: Segment) -> tuple[Word, ...]:
    """Words as WebVTT timestamp tags give them back: a word ends where the next start
    begins (the segment's end for the last), no confidence."""
    if not getattr(segment, "words", ()):
        return ()
    starts = [w.start_ms for w in segment.words]
    out = []
    for i, word in enumerate(segment.words):
        later = [s for s in starts[i + 1 :] if s is not None and s != word.start_ms]
        end = later[0] if later else segment.end_ms
        if word.start_ms is None:
            out.append(replace(word, end_ms=None, confidence=None))
        else:
            out.append(Word(word.text, word.start_ms, max(word.start_ms, end), None))
    return tuple(out)


@dataclass
class Cell:
    name: str
    fmt: str
    applicable: bool
    lossless: bool = False
    problem: str = ""


def first_difference(got: list[Segment], want: list[Segment]) -> str:
    if len(got) != len(want):
        return f"{len(want)} segments became {len(got)}"
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        if a != b:
            differing = [
                f
                for f in (
                    "start_ms",
                    "end_ms",
                    "speaker",
                    "text",
                    "cue_id",
                    "cue_settings",
                    "note",
                    "words",
                )
                if getattr(a, f, None) != getattr(b, f, None)
            ]
            was, now = getattr(b, differing[0]), getattr(a, differing[0])
            return f"segment {i + 1}: {', '.join(differing)} differ ({was!r} -> {now!r})"
    return ""


def round_trip(path: Path, fmt: str, name: str) -> Cell:
    try:
        original = parse_transcript(path.read_bytes(), path.name)
    except TranscriptError:
        return Cell(name, fmt, applicable=False, problem="refused on import")
    segments = original.segments
    if not segments or (fmt in TIMED_ONLY and any(s.start_ms is None for s in segments)):
        return Cell(name, fmt, applicable=False, problem="untimed or empty")
    out = write_transcript(
        segments, fmt, index_points=original.index_points, metadata=original.header
    )
    again = parse_transcript(out.encode(), "again." + {"ohms": "xml"}.get(fmt, fmt))
    problem = first_difference(again.segments, expected(segments, fmt))
    if not problem and fmt in {"json", "ohms"} and again.index_points != original.index_points:
        problem = "index points differ"
    return Cell(name, fmt, applicable=True, lossless=not problem, problem=problem)


def matrix(testdata: Path) -> list[Cell]:
    return [
        round_trip(path, fmt, str(path.relative_to(testdata)))
        for path in corpus(testdata)
        for fmt in FORMATS
    ]
