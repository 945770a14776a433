"""Plain-text transcripts: ``SPEAKER:`` turns, optional ``[hh:mm:ss]`` timecodes, a header.

How a file is read:

* Header block: ``INTERVIEWEE:``, ``INTERVIEWER(S):``, ``DATE:``, ``LOCATION:``, ``TITLE:``
  lines before the first turn go to ``header``; a line right below one of them (no blank
  line between) continues its value (``"Sarah Schneider; David J. Caruso"``). Prose found
  before the header block (an abstract) goes to ``header["abstract"]``.
* Speakers: ``NAME:`` or ``Name Surname:`` at the start of a line (see ``speakers.py``).
  Labels in capitals are always trusted; title-case ones only when the same name labels at
  least two turns, so a lone "However: ..." stays prose.
* Timecodes ``[hh:mm:ss]``, ``[hh:mm:ss.ff]`` (decimal fraction) and ``[mm:ss]`` start a new
  segment wherever they appear; a segment ends where the next timed one starts (the last
  at ``duration_ms`` when given). Text after a timecode without a label continues the
  current speaker. A new speaker label with no timecode of its own starts an untimed
  segment inside a timed file (warned: it cannot be played from).
* Without any timecode the transcript is untimed: one segment per speaker turn, or per
  paragraph when no turn is labelled. A later header block (a second session's
  ``INTERVIEWEE:``/``DATE:`` lines) becomes one segment without speaker. A paragraph that
  is only a bracketed note (``[END OF INTERVIEW]``) or a capitals heading (``NOTES``) is a
  segment without speaker; a heading also ends the current speaker's turn (the notes that
  follow are not speech). A timed segment that is only a bracketed note has no speaker
  either.
* Lines inside a paragraph are joined with a space (files are often hard-wrapped);
  paragraphs inside one segment are joined with ``\\n``. A paragraph starts after a blank
  line or at an indented line. BOMs (anywhere) and leading spaces are ignored.

A timecode preceded by a backslash (``\\[3:40:29]``) is text: the writer escapes text that
looks like a timecode that way, so it is read back as text, not as a new segment.

The writer emits ``[hh:mm:ss] SPEAKER: text`` per segment (``.mmm`` added when needed, no
brackets when untimed) and a blank line between paragraphs. Round-trip limits: ``end_ms``
is rebuilt from the next start; a segment without speaker after one with a speaker
inherits it; a title-case speaker must label two segments to be recognised; text without
speaker that starts like a label ("Digo: ...") may be read as one; an untimed segment
without speaker is split at its line breaks.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from oralhist.errors import TranscriptError

from .checks import check_timing
from .decoding import as_text, split_lines
from .model import ParseResult, ParseWarning, Segment, normalize_text
from .speakers import Label, split_label
from .timecode import format_timecode, parse_timecode

FORMAT = "txt"

_TIMECODE = re.compile(r"\[((?:\d+:)?\d{1,2}:\d{2}(?:\.\d{1,3})?)\]")
#: ``\[3:40:29]``: a timecode that is text (the writer escapes text that looks like one).
_ESCAPED = re.compile(r"\\(\[(?:\d+:)?\d{1,2}:\d{2}(?:\.\d{1,3})?\])")
_HEADER_LINE = re.compile(r"(?P<key>[A-Za-z]+)\s*:\s*(?P<value>.*)")
_HEADER_KEYS = {
    "INTERVIEWEE": "interviewee",
    "INTERVIEWEES": "interviewee",
    "NARRATOR": "interviewee",
    "NARRATORS": "interviewee",
    "INTERVIEWER": "interviewer",
    "INTERVIEWERS": "interviewer",
    "DATE": "date",
    "DATES": "date",
    "LOCATION": "location",
    "PLACE": "location",
    "TITLE": "title",
}
_WRITTEN_HEADER = ("title", "interviewee", "interviewer", "date", "location")
_BRACKETED = re.compile(r"\[[^\[\]]*\]")
_HEADING = re.compile(r"[^\W\d_a-z][^:a-z]{0,60}")


@dataclass
class _Draft:
    start_ms: int | None
    speaker: str | None
    line: int
    paragraphs: list[list[str]] = field(default_factory=lambda: [[]])
    labelled: bool = False
    session: bool = False  # a later header block ("INTERVIEWEE: ..." of a second session)

    @property
    def has_text(self) -> bool:
        return any(self.paragraphs)

    def add(self, text: str) -> None:
        self.paragraphs[-1].append(text)

    def break_paragraph(self) -> None:
        if self.paragraphs[-1]:
            self.paragraphs.append([])

    def text(self) -> str:
        return "\n".join(" ".join(p) for p in self.paragraphs if p)


def _header_key(line: str) -> tuple[str, str] | None:
    match = _HEADER_LINE.fullmatch(line)
    if not match:
        return None
    key = match.group("key")
    if key.upper() not in _HEADER_KEYS or not (key.isupper() or key.istitle()):
        return None
    return _HEADER_KEYS[key.upper()], match.group("value").strip()


def _is_heading(text: str) -> bool:
    return (
        _HEADING.fullmatch(text) is not None
        and len(text.split()) <= 6
        and any(c.isalpha() for c in text)
    )


def parse(
    source: str | bytes, filename: str = "transcript.txt", *, duration_ms: int | None = None
) -> ParseResult:
    text = as_text(source, filename).replace("\ufeff", "")
    lines = split_lines(text)
    if all(not line.strip() for line in lines):
        raise TranscriptError("is empty", filename=filename)
    timed = any(_TIMECODE.search(line) for line in lines)

    # Title-case labels are trusted when the same name labels at least two turns.
    title_counts: Counter[str] = Counter()
    for line in lines:
        stripped = line.strip()
        after_timecode = _TIMECODE.match(stripped)
        label = split_label(stripped[after_timecode.end() :] if after_timecode else stripped)
        if label and label.kind == "title":
            title_counts[label.name] += 1
    trusted_titles = {name for name, n in title_counts.items() if n >= 2}

    def speaker_label(candidate: str) -> Label | None:
        label = split_label(candidate)
        if label is None or label.name.upper() in _HEADER_KEYS:
            return None
        if label.kind == "title" and label.name not in trusted_titles:
            return None
        return label

    any_labels = any(speaker_label(line.strip()) for line in lines)
    header: dict[str, str] = {}
    warnings: list[ParseWarning] = []
    drafts: list[_Draft] = []
    current: _Draft | None = None
    speaker: str | None = None
    in_header = True
    header_key: str | None = None
    paragraph_break = True

    for index, raw in enumerate(lines):
        lineno = index + 1
        stripped = raw.strip()
        if not stripped:
            paragraph_break = True
            header_key = None
            continue
        if in_header:
            found = _header_key(stripped)
            if found:
                key, value = found
                if drafts and all(d.start_ms is None and d.speaker is None for d in drafts):
                    header["abstract"] = "\n".join(d.text() for d in drafts)
                    drafts.clear()
                    current = None
                header[key] = (
                    f"{header[key]}; {value}"
                    if header.get(key) and value
                    else (header.get(key) or value)
                )
                header_key = key
                paragraph_break = True
                continue
            if header_key and not _TIMECODE.search(stripped) and not speaker_label(stripped):
                header[header_key] = f"{header[header_key]}; {stripped}".lstrip("; ")
                continue
        header_key = None
        indented = raw[:1] in (" ", "\t") and current is not None
        starts_paragraph = paragraph_break or indented
        paragraph_break = False

        if not timed and _header_key(stripped):
            speaker = None  # a session header ends the previous turn
            if current is None or not current.session:
                current = _Draft(None, None, lineno, session=True)
                drafts.append(current)
            current.break_paragraph()
            current.add(stripped)
            continue
        if not timed and starts_paragraph:
            following = lines[index + 1].strip() if index + 1 < len(lines) else ""
            lone = (not following or _header_key(following)) and not speaker_label(stripped)
            if lone and (_BRACKETED.fullmatch(stripped) or _is_heading(stripped)):
                if _is_heading(stripped) and not _BRACKETED.fullmatch(stripped):
                    speaker = None
                drafts.append(_Draft(None, None, lineno, [[stripped]]))
                current = None
                continue

        position = 0
        at_turn_start = True
        pieces: list[tuple[str, int | str]] = []
        for match in _TIMECODE.finditer(stripped):
            if match.start() and stripped[match.start() - 1] == "\\":
                continue  # escaped: text
            try:
                ms = parse_timecode(match.group(1))
            except ValueError:
                message = f"{match.group(0)} is not a valid timecode; kept as text"
                warnings.append(ParseWarning(lineno, message))
                continue
            before = stripped[position : match.start()].strip()
            if before:
                pieces.append(("text", before))
            pieces.append(("time", ms))
            position = match.end()
        rest = stripped[position:].strip()
        if rest:
            pieces.append(("text", rest))

        for kind, value in pieces:
            if kind == "time":
                in_header = False
                current = _Draft(value, speaker, lineno)
                drafts.append(current)
                at_turn_start = True
                continue
            label = speaker_label(value) if at_turn_start else None
            at_turn_start = False
            value = _ESCAPED.sub(r"\1", value)
            if label:
                label = label._replace(rest=_ESCAPED.sub(r"\1", label.rest))
            if label:
                in_header = False
                speaker = label.name
                if (
                    current is not None
                    and current.start_ms is not None
                    and not current.has_text
                    and not current.labelled
                ):
                    current.speaker = speaker
                else:
                    current = _Draft(None, speaker, lineno)
                    drafts.append(current)
                    if timed:
                        warnings.append(
                            ParseWarning(
                                lineno, f"turn of {speaker} has no timecode; stored untimed"
                            )
                        )
                current.labelled = True
                if label.rest:
                    current.add(label.rest)
                continue
            if (
                current is None
                or current.session
                or (starts_paragraph and not timed and not any_labels)
            ):
                current = _Draft(None, speaker, lineno)
                drafts.append(current)
            elif starts_paragraph:
                current.break_paragraph()
            starts_paragraph = False
            current.add(value)

    segments: list[Segment] = []
    seg_lines: list[int | None] = []
    timed_indexes = [i for i, d in enumerate(drafts) if d.start_ms is not None]
    next_start = dict(pairwise(timed_indexes))
    for i, draft in enumerate(drafts):
        end = None
        if draft.start_ms is not None:
            if i in next_start:
                end = max(drafts[next_start[i]].start_ms, draft.start_ms)
            elif duration_ms is not None and duration_ms >= draft.start_ms:
                end = duration_ms
        speaker = draft.speaker
        if draft.start_ms is not None and not draft.labelled and _BRACKETED.fullmatch(draft.text()):
            speaker = None  # "[00:28:04] [END OF INTERVIEW]": a note, nobody's speech
        segments.append(Segment(draft.start_ms, end, speaker, draft.text()))
        seg_lines.append(draft.line)
    if not segments:
        raise TranscriptError("has a header but no transcript text", filename=filename)
    check_timing(segments, seg_lines, filename, warnings, duration_ms=duration_ms)
    header = {
        key: normalize_text(value) if key == "abstract" else " ".join(value.split())
        for key, value in header.items()
        if value.strip()
    }
    return ParseResult(FORMAT, segments, warnings, [], header, seg_lines)


def _bracket(ms: int) -> str:
    code = format_timecode(ms)
    return f"[{code[:-4] if code.endswith('.000') else code}]"


def write(segments: Sequence[Segment], *, metadata: Mapping[str, str] | None = None) -> str:
    out: list[str] = []
    for key in _WRITTEN_HEADER:
        value = " ".join(str((metadata or {}).get(key) or "").split())
        if value:
            out.append(f"{key.upper()}: {value}")
    if out:
        out.append("")
    for segment in segments:
        text = _TIMECODE.sub(lambda m: "\\" + m.group(0), segment.text)
        paragraphs = text.split("\n") if text else [""]
        first = ""
        if segment.start_ms is not None:
            first += _bracket(segment.start_ms) + " "
        if segment.speaker:
            first += f"{segment.speaker}: "
        out.append((first + paragraphs[0]).rstrip())
        for paragraph in paragraphs[1:]:
            out += ["", paragraph]
        out.append("")
    return "\n".join(out)
