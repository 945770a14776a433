"""The transcript data model shared by every format: segments, index points, parse results.

Text is normalised here, once, so that every parser and writer agrees on what "the same
text" means and a round trip through any format compares equal: line breaks become ``\\n``,
each line is stripped, runs of other whitespace collapse to one space, empty lines are
dropped, and control characters, byte-order marks and lone surrogates are removed (they
cannot be stored in XML or shown). Text is plain text: markup has been removed by the
parser and the web layer escapes it on output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff\ufffe\uffff\ud800-\udfff]")
_SPACES = re.compile(r"[^\S\n]+")


def normalize_text(text: str) -> str:
    """Return ``text`` with the whitespace rules described in the module docstring."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def normalize_speaker(speaker: str | None) -> str | None:
    """One line, single spaces, ``None`` for a blank name."""
    if speaker is None:
        return None
    name = " ".join(normalize_text(speaker).split())
    return name or None


def _check_ms(name: str, value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int (milliseconds) or None, not {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")


@dataclass(frozen=True)
class Word:
    """One word with its time (from Whisper-family files or WebVTT timestamp tags).
    ``confidence`` is the recogniser's probability (0-1) when it gave one."""

    text: str
    start_ms: int | None
    end_ms: int | None
    confidence: float | None = None

    def __post_init__(self) -> None:
        _check_ms("start_ms", self.start_ms)
        _check_ms("end_ms", self.end_ms)
        object.__setattr__(self, "text", " ".join(normalize_text(self.text).split()))
        if self.confidence is not None:
            confidence = float(self.confidence)
            if not 0.0 <= confidence <= 1.0:
                raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
            object.__setattr__(self, "confidence", round(confidence, 4))


@dataclass(frozen=True)
class Segment:
    """A stretch of the interview: a cue, a speaker turn or a paragraph.

    ``start_ms``/``end_ms`` are ``None`` for untimed transcripts (and ``end_ms`` alone may be
    ``None`` when a format does not say where the last segment ends). ``cue_id`` and
    ``cue_settings`` are a WebVTT cue's identifier and (browser-valid) settings, kept so that
    VTT -> VTT loses nothing; ``note`` is a footnote (OHMS); ``words`` the word timings.
    """

    start_ms: int | None
    end_ms: int | None
    speaker: str | None
    text: str
    cue_id: str | None = None
    cue_settings: str | None = None
    note: str | None = None
    words: tuple[Word, ...] = ()

    def __post_init__(self) -> None:
        _check_ms("start_ms", self.start_ms)
        _check_ms("end_ms", self.end_ms)
        object.__setattr__(self, "speaker", normalize_speaker(self.speaker))
        object.__setattr__(self, "text", normalize_text(self.text))
        for name in ("cue_id", "cue_settings", "note"):
            value = getattr(self, name)
            if value is not None:
                value = normalize_text(value) if name == "note" else value.strip("\n")
                object.__setattr__(self, name, value or None)
        object.__setattr__(self, "words", tuple(w for w in self.words if w.text))


@dataclass(frozen=True)
class IndexPoint:
    """An OHMS-style index entry: a titled point in the recording with its metadata."""

    start_ms: int
    title: str
    partial_transcript: str = ""
    synopsis: str = ""
    keywords: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    hyperlinks: tuple[tuple[str, str], ...] = ()  # (url, text)
    #: OHMS ``<gpspoints>``: the point ("lat, long"), map zoom and label; "" when absent.
    gps: str = ""
    gps_zoom: str = ""
    gps_text: str = ""

    def __post_init__(self) -> None:
        _check_ms("start_ms", self.start_ms)
        if self.start_ms is None:
            raise TypeError("an index point needs a start_ms")
        for name in ("gps", "gps_zoom", "gps_text"):
            object.__setattr__(self, name, " ".join(normalize_text(getattr(self, name)).split()))
        for name in ("title", "partial_transcript", "synopsis"):
            object.__setattr__(self, name, normalize_text(getattr(self, name)))
        for name in ("keywords", "subjects"):
            terms = (" ".join(normalize_text(t).split()) for t in getattr(self, name))
            object.__setattr__(self, name, tuple(t for t in terms if t))
        links = tuple(
            (" ".join(url.split()), " ".join(normalize_text(text).split()))
            for url, text in self.hyperlinks
        )
        object.__setattr__(self, "hyperlinks", tuple(link for link in links if link[0]))


@dataclass(frozen=True)
class ParseWarning:
    """Something the importer accepted but the user should look at (``line`` is 1-based)."""

    line: int | None
    message: str


@dataclass
class ParseResult:
    """What a parser found. ``header`` holds what the file says about the interview
    (``interviewee``, ``interviewer``, ``date``, ``location``, ``title``, ...).

    ``lines`` gives, for each segment, the 1-based line of the file it came from (``None``
    where the format has no useful line, e.g. JSON), for messages about that segment.
    """

    format: str
    segments: list[Segment]
    warnings: list[ParseWarning] = field(default_factory=list)
    index_points: list[IndexPoint] = field(default_factory=list)
    header: dict[str, str] = field(default_factory=dict)
    lines: list[int | None] = field(default_factory=list, repr=False, compare=False)
