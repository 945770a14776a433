"""SubRip (SRT) import and export.

* Cue numbers are optional; a blank line ends a cue, and so does a line that is itself a
  timing line (or a number followed by one), for files that forgot the blank line.
* Times need milliseconds (``00:00:01,000``; one-digit minutes and seconds are read, as
  pysrt and srt do); ``.`` is accepted instead of ``,`` but one
  file must not mix the two (a mixed or incomplete timing is most likely damage).
* Formatting tags ``<i> <b> <u> <s> <font ...>`` and ASS overrides such as ``{\\an8}`` are
  removed; any other ``<...>`` is kept as text (SRT has no escaping, so it may be text).
* Speakers: ``<b>Name:</b>`` at the start of a cue always names the speaker (explicit
  markup, any case); ``NAME:`` in capitals does when at least half the cues with text are
  labelled or the name labels two cues, and ``Name Surname:`` when it labels two cues or
  every cue is labelled: one stray ``WARNING:`` in an unlabelled file stays text. A cue
  starting with an empty ``<i></i>`` is never labelled (the writer's escape for text such as
  ``NOTE TO FILE: ...`` in a segment without speaker). The writer prefixes ``NAME: ``
  where the reader recognises it and ``<b>name:</b> `` otherwise (lower case, or a
  title-case name used once), so mixed labelled and unlabelled cues survive a round trip.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

from oralhist.errors import TranscriptError

from .checks import check_timing
from .decoding import as_text, split_lines
from .model import ParseResult, ParseWarning, Segment
from .speakers import split_label
from .timecode import format_timecode
from .vtt import cue_times

FORMAT = "srt"

# Minutes and seconds may have one digit ("00:00:0,000"): pysrt and srt read them.
_TS = r"(\d+):([0-5]?\d):([0-5]?\d)([,.])(\d{1,3})"
_TIMING = re.compile(rf"\s*{_TS}\s*-->\s*{_TS}(?:\s.*)?")
_NUMBER = re.compile(r"\s*\d+\s*")
_FORMAT_TAGS = re.compile(r"</?(?:i|b|u|s)>|</?font\b[^>]*>|\{\\[^}]*\}", re.IGNORECASE)
_BOLD_LABEL = re.compile(r"\s*<b>([^<>\n:]{1,60}):</b>[ \t]*", re.IGNORECASE)
_NO_LABEL = "<i></i>"


def _ms(hours: str, minutes: str, seconds: str, millis: str) -> int:
    return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis.ljust(3, "0"))


def parse(
    source: str | bytes, filename: str = "transcript.srt", *, duration_ms: int | None = None
) -> ParseResult:
    lines = split_lines(as_text(source, filename))
    count = len(lines)
    cues: list[tuple[int, int, int, list[str]]] = []  # (line, start, end, text lines)
    separator: str | None = None

    def is_timing(index: int) -> bool:
        return index < count and _TIMING.fullmatch(lines[index]) is not None

    i = 0
    while i < count:
        if not lines[i].strip():
            i += 1
            continue
        if "-->" in lines[i]:
            timing_index = i
        elif _NUMBER.fullmatch(lines[i]):
            if i + 1 >= count or "-->" not in lines[i + 1]:
                raise TranscriptError(
                    f"cue number {lines[i].strip()} is not followed by a timing line "
                    "such as '00:00:01,000 --> 00:00:04,000'",
                    filename=filename,
                    line=i + 2 if i + 1 < count else i + 1,
                )
            timing_index = i + 1
        else:
            raise TranscriptError(
                f"expected a cue number or a timing line, found {lines[i].strip()[:60]!r}",
                filename=filename,
                line=i + 1,
            )
        match = _TIMING.fullmatch(lines[timing_index])
        if not match:
            raise TranscriptError(
                f"bad cue timing {lines[timing_index].strip()[:80]!r}: expected "
                "'hh:mm:ss,mmm --> hh:mm:ss,mmm'",
                filename=filename,
                line=timing_index + 1,
            )
        g = match.groups()
        for sep in (g[3], g[8]):
            if separator is None:
                separator = sep
            elif sep != separator:
                raise TranscriptError(
                    f"bad cue timing {lines[timing_index].strip()!r}: mixes ',' and '.' "
                    "before the milliseconds",
                    filename=filename,
                    line=timing_index + 1,
                )
        start, end = _ms(*g[0:3], g[4]), _ms(*g[5:8], g[9])
        j = timing_index + 1
        while j < count and lines[j].strip():
            if is_timing(j) or (_NUMBER.fullmatch(lines[j]) and is_timing(j + 1)):
                break
            j += 1
        cues.append((timing_index + 1, start, end, lines[timing_index + 1 : j]))
        i = j

    if not cues:
        raise TranscriptError("has no cues", filename=filename)

    raws = ["\n".join(text) for _line, _s, _e, text in cues]
    found: list[tuple[str | None, str, bool]] = []  # (speaker, text, explicit)
    for raw in raws:
        bold = _BOLD_LABEL.match(raw)
        if bold:
            found.append((bold.group(1), _FORMAT_TAGS.sub("", raw[bold.end() :]), True))
        elif raw.lstrip().startswith(_NO_LABEL):
            found.append((None, _FORMAT_TAGS.sub("", raw), True))
        else:
            found.append((None, _FORMAT_TAGS.sub("", raw), False))
    labels = [split_label(text) if not explicit else None for _s, text, explicit in found]
    with_text = sum(1 for _s, text, _e in found if text.strip())
    counts = Counter(label.name for label in labels if label)
    labelled = sum(1 for label in labels if label) + sum(1 for s, _t, _e in found if s)
    mostly = with_text > 0 and labelled * 2 >= with_text
    every = with_text > 0 and labelled == with_text
    segments: list[Segment] = []
    seg_lines: list[int | None] = []
    warnings: list[ParseWarning] = []
    for (line, start, end, _raw), (speaker, text, _explicit), label in zip(
        cues, found, labels, strict=True
    ):
        if label and (
            (label.kind == "upper" and (mostly or counts[label.name] >= 2))
            or (label.kind == "title" and (every or counts[label.name] >= 2))
        ):
            speaker, text = label.name, label.rest
        segment = Segment(start, end, speaker, text)
        if not segment.text:
            warnings.append(ParseWarning(line, "cue has no text"))
        segments.append(segment)
        seg_lines.append(line)
    check_timing(segments, seg_lines, filename, warnings, duration_ms=duration_ms)
    return ParseResult(FORMAT, segments, warnings, [], {}, seg_lines)


def write(segments: Sequence[Segment], *, metadata: Mapping[str, str] | None = None) -> str:
    """SRT; the speaker becomes a ``NAME: `` (or ``<b>name:</b> ``) prefix, and text that
    would read as a label is escaped. SRT has no place for metadata."""
    out: list[str] = []
    counts = Counter(s.speaker for s in segments if s.speaker)
    for index, segment in enumerate(segments):
        start, end = cue_times(segments, index, "SRT")
        out.append(str(index + 1))
        out.append(f"{format_timecode(start, style='srt')} --> {format_timecode(end, style='srt')}")
        text = segment.text
        if segment.speaker:
            plain = split_label(f"{segment.speaker}: x")
            readable = (
                plain is not None
                and plain.name == segment.speaker
                and (plain.kind == "upper" or counts[segment.speaker] >= 2)
                and ":" not in segment.speaker
            )
            prefix = f"{segment.speaker}:" if readable else f"<b>{segment.speaker}:</b>"
            text = f"{prefix} {text}" if text else prefix
        elif text and (split_label(text) or _BOLD_LABEL.match(text)):
            text = _NO_LABEL + text
        if text:
            out += text.split("\n")
        out.append("")
    return "\n".join(out)
