"""OHMS XML (Oral History Metadata Synchronizer) import and export.

Parsed with defusedxml, DTDs and entity declarations forbidden: a billion-laughs or
external-entity payload is refused at its declaration, before anything is expanded or
fetched, and no network access ever happens.

Two transcript forms are read:

* current: ``<vtt_transcript>`` holding WebVTT (in CDATA), parsed by ``vtt.py`` with lines
  reported as lines of the XML file. OHMS ends the last cue at ``00:00:00.000``; that is
  read as an unknown end.
* legacy: ``<transcript>`` hard-wrapped text with ``NAME:`` turns, plus ``<sync>``, e.g.
  ``1:|13(3)|19(14)``: every N minutes (here 1) a point "line 13, word 3", "line 19, word
  14", ... where the k-th point is at k*N minutes. Segments start at each turn, each
  paragraph and each sync point; a segment starting at a sync point gets its exact time,
  the others a time interpolated from their word position between the neighbouring points
  (one warning says how many). Sync points that go backwards in the text are dropped with a
  warning; a word number past the end of its line means the end of that line. Without
  ``<sync>`` the transcript is untimed. The ``[[footnotes]]`` block is removed and each
  ``[[note]]`` is reported as a warning (so its text reaches the importer's report);
  ``[[footnote]]N[[/footnote]]`` references are removed from the text. The OHMS
  placeholder "No transcript." means no segments.

``<index>`` points become IndexPoints (``<time>`` is in seconds; keywords and subjects are
``;``-separated). The header takes title, interviewee, interviewer, date, accession,
repository and collection/series names. A record with no transcript gives an empty result,
not an error. The writer produces the current form (``<vtt_transcript>``) with the index;
index times are whole seconds there (the OHMS schema says ``xs:int``).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape as xml_escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from oralhist.errors import TranscriptError

from . import vtt
from .checks import check_timing
from .model import IndexPoint, ParseResult, ParseWarning, Segment
from .speakers import split_label
from .timecode import MAX_TIME_MS

FORMAT = "ohms"
NAMESPACE = "https://www.weareavp.com/nunncenter/ohms"

_FOOTNOTES = re.compile(r"\[\[footnotes\]\](.*?)\[\[/footnotes\]\]", re.S)
_NOTE = re.compile(r"\[\[note\]\](.*?)\[\[/note\]\]", re.S)
_FOOTNOTE_REF = re.compile(r"\[\[footnote\]\].*?\[\[/footnote\]\]", re.S)
_FOOTNOTE_NUMBER = re.compile(r"\[\[footnote\]\](.*?)\[\[/footnote\]\]", re.S)
_LEFTOVER_MARKUP = re.compile(r"\[\[/?(?:footnotes?|note)\]\]")
_SYNC_POINT = re.compile(r"(\d+)\((\d+)\)")
_PLACEHOLDER = re.compile(r"no transcript\.?", re.I)
_HEADER_FIELDS = (
    "title",
    "interviewee",
    "interviewer",
    "accession",
    "repository",
    "collection_name",
    "series_name",
    "description",
    "rights",
    "usage",
    "funding",
    "language",
    "media_url",
)
#: Repeated record elements, joined with "; " into one header value.
_HEADER_LISTS = {"subjects": ("subject", "subjects"), "keywords": ("keyword", "keywords")}
_GPS_FIELDS = ("gps", "gps_zoom", "gps_text")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(parent: Element | None, name: str) -> Element | None:
    if parent is None:
        return None
    for child in parent:
        if _local(child.tag) == name:
            return child
    return None


def _children(parent: Element | None, name: str) -> list[Element]:
    return [] if parent is None else [c for c in parent if _local(c.tag) == name]


def _text(parent: Element | None, name: str) -> str:
    child = _child(parent, name)
    return (child.text or "") if child is not None else ""


def _element_line(data: bytes, name: str) -> int:
    """Line of the XML file where ``<name>`` opens (1 when not found, e.g. UTF-16 files)."""
    match = re.search(rb"<(?:\w+:)?" + name.encode() + rb"[\s>]", data)
    return data.count(b"\n", 0, match.start()) + 1 if match else 1


def _load(data: bytes, filename: str) -> Element:
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise TranscriptError(
            f"was refused: XML with a DTD or entity declarations is not accepted ({error})",
            filename=filename,
        ) from error
    except ParseError as error:
        line = error.position[0] if getattr(error, "position", None) else None
        raise TranscriptError(
            f"is not well-formed XML: {error.msg}", filename=filename, line=line
        ) from error


def parse(
    source: str | bytes, filename: str = "transcript.xml", *, duration_ms: int | None = None
) -> ParseResult:
    data = source.encode("utf-8") if isinstance(source, str) else source
    if isinstance(source, str):
        data = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", data)
    root = _load(data, filename)
    record = root if _local(root.tag) == "record" else _child(root, "record")
    if _local(root.tag) not in {"ROOT", "record"} or record is None:
        raise TranscriptError(
            "is XML but not an OHMS export (no <ROOT><record>)", filename=filename, line=1
        )

    header = {name: " ".join(_text(record, name).split()) for name in _HEADER_FIELDS}
    date = _child(record, "date")
    header["date"] = (date.get("value") or "").strip() if date is not None else ""
    if not header["date"]:
        header["date"] = " ".join(_text(record, "date_nonpreferred_format").split())
    for key, names in _HEADER_LISTS.items():
        terms = [
            term.strip()
            for name in names
            for element in _children(record, name)
            for term in (element.text or "").split(";")
            if term.strip()
        ]
        header[key] = "; ".join(dict.fromkeys(" ".join(t.split()) for t in terms))
    gps_holder = _child(record, "gpspoints") if _child(record, "gps") is None else record
    for name in _GPS_FIELDS:
        header[name] = " ".join(_text(gps_holder, name).split())
    header = {k: v for k, v in header.items() if v}

    warnings: list[ParseWarning] = []
    index_points = _index_points(_child(record, "index"), filename)
    vtt_text = _text(record, "vtt_transcript")
    if vtt_text.strip():
        offset = _element_line(data, "vtt_transcript") - 1
        result = vtt.parse(
            vtt_text, filename, duration_ms=duration_ms, line_offset=offset, ohms=True
        )
        segments, lines = result.segments, result.lines
        warnings += result.warnings
    else:
        first_line = _element_line(data, "transcript")
        segments, lines = _legacy(
            _text(record, "transcript"),
            _text(record, "sync"),
            first_line,
            warnings,
            duration_ms,
        )
        check_timing(segments, lines, filename, warnings, duration_ms=duration_ms)
    if not segments:
        warnings.append(ParseWarning(None, "the OHMS record has no transcript"))
    return ParseResult(FORMAT, segments, warnings, index_points, header, lines)


def _split_terms(value: str) -> tuple[str, ...]:
    return tuple(term.strip() for term in value.split(";") if term.strip())


def _index_points(index: Element | None, filename: str) -> list[IndexPoint]:
    points = []
    for number, point in enumerate(_children(index, "point"), 1):
        raw_time = _text(point, "time").strip() or "0"
        try:
            seconds = float(raw_time)
            if not seconds >= 0 or seconds == float("inf"):
                raise ValueError(raw_time)
        except ValueError as error:
            raise TranscriptError(
                f"index point {number} has a bad <time> {raw_time[:40]!r} (seconds expected)",
                filename=filename,
            ) from error
        if seconds * 1000 > MAX_TIME_MS:
            raise TranscriptError(
                f"index point {number}'s <time> {raw_time[:40]!r} is past the limit: times "
                f"may be at most {MAX_TIME_MS // 3_600_000} hours",
                filename=filename,
            )
        links = []
        for group in _children(point, "hyperlinks"):
            url = _text(group, "hyperlink").strip()
            if url:
                links.append((url, _text(group, "hyperlink_text")))
        points.append(
            IndexPoint(
                start_ms=round(seconds * 1000),
                title=_text(point, "title"),
                partial_transcript=_text(point, "partial_transcript"),
                synopsis=_text(point, "synopsis"),
                keywords=_split_terms(_text(point, "keywords")),
                subjects=_split_terms(_text(point, "subjects")),
                hyperlinks=tuple(links),
                **{
                    name: " ".join(
                        " ".join(_text(group, name).split())
                        for group in _children(point, "gpspoints")
                    ).strip()
                    for name in _GPS_FIELDS
                },
            )
        )
    return points


def _sync_points(sync: str, warnings: list[ParseWarning]) -> list[tuple[int, int, int]]:
    """``[(line, word, ms)]`` from an OHMS ``<sync>`` value (lines and words 1-based)."""
    sync = sync.strip()
    if not sync or ":" not in sync:
        return []
    interval_text, stamps = sync.split(":", 1)
    try:
        interval_ms = int(float(interval_text or "1") * 60_000)
        if interval_ms <= 0:
            raise ValueError(interval_text)
    except (ValueError, OverflowError):
        warnings.append(
            ParseWarning(None, f"OHMS <sync> interval {interval_text!r} unreadable; untimed")
        )
        return []
    points = []
    for k, stamp in enumerate(stamps.split("|")):
        match = _SYNC_POINT.fullmatch(stamp.strip())
        if match:
            points.append((int(match.group(1)), int(match.group(2)), k * interval_ms))
    return points


def _legacy(
    transcript: str,
    sync: str,
    first_line: int,
    warnings: list[ParseWarning],
    duration_ms: int | None,
) -> tuple[list[Segment], list[int | None]]:
    text = transcript.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip() or _PLACEHOLDER.fullmatch(text.strip()):
        return [], []
    notes: dict[str, tuple[int, str]] = {}  # number -> (line, text)
    for block in _FOOTNOTES.finditer(text):
        for number, note in enumerate(_NOTE.finditer(block.group(1)), len(notes) + 1):
            note_line = first_line + text.count("\n", 0, block.start(1) + note.start())
            notes[str(number)] = (note_line, " ".join(note.group(1).split()))
    # Blank out the footnotes block but keep its newlines, so line numbers stay right.
    text = _FOOTNOTES.sub(lambda m: "\n" * m.group(0).count("\n"), text)

    # Every word with its (line, word) position; segments start at word indexes.
    words: list[str] = []
    word_at: dict[tuple[int, int], int] = {}
    line_end: dict[int, int] = {}
    starts: dict[int, int] = {}  # word index -> source line (relative)
    turns: dict[int, tuple[str, int]] = {}  # word index -> (speaker, words in the label)
    headings: set[int] = set()  # word indexes of all-capitals headings
    blank_before = True
    for number, line in enumerate(text.split("\n"), 1):
        tokens = line.split()
        if not tokens:
            blank_before = True
            continue
        first = len(words)
        if blank_before:
            starts[first] = number
            label = split_label(line)
            if label and label.kind == "upper":
                label_words = len(tokens) - len(label.rest.split())
                if _is_heading(label.rest):
                    headings.add(first)  # "APPENDIX: SCIENTIST IN A JEEP"
                else:
                    turns[first] = (label.name, label_words)
        for w, token in enumerate(tokens, 1):
            word_at[(number, w)] = len(words)
            words.append(token)
        line_end[number] = len(words)
        blank_before = False
    if not words:
        return [], []
    # A known speaker's label inside a paragraph starts a turn there ("... DUARTE: Very.").
    speakers = {name for name, _n in turns.values()}
    for index in range(1, len(words)):
        token = words[index]
        if token.endswith(":") and token[:-1] in speakers and index not in turns:
            if any(index - n < s <= index for s, (_name, n) in turns.items()):
                continue
            turns[index] = (token[:-1], 1)
            starts.setdefault(index, _line_of_word(word_at, index))
    # A sync point on a label, or on the first word after it, times the whole turn; one
    # inside a bracketed note ("[END OF AUDIO FILE 1.6]") times the note's start.
    inside_label = {s + i: s for s, (_name, n) in turns.items() for i in range(n + 1)}
    group_start: int | None = None
    for index, token in enumerate(words):
        if group_start is None and token.startswith("[") and "]" not in token:
            group_start = index
        elif group_start is not None:
            inside_label.setdefault(index, group_start)
            if "]" in token or index - group_start > 12:
                group_start = None

    anchors: dict[int, int] = {}  # word index -> ms
    last_position = -1
    for line_no, word_no, ms in _sync_points(sync, warnings):
        where = first_line + line_no - 1
        position = word_at.get((line_no, word_no))
        if position is None and line_no in line_end:
            position = line_end[line_no]  # past the last word: the end of that line
        if position is None:
            warnings.append(
                ParseWarning(
                    where, f"OHMS sync point {line_no}({word_no}) is not in the text; ignored"
                )
            )
            continue
        position = inside_label.get(position, position)
        if position >= len(words) or position == last_position:
            continue  # after the last word, or several minutes on one word: keep the first
        if position < last_position:
            warnings.append(
                ParseWarning(
                    where,
                    f"OHMS sync point {line_no}({word_no}) goes backwards in the text; ignored",
                )
            )
            continue
        anchors[position] = ms
        last_position = position
        starts.setdefault(position, line_no)

    order = sorted(starts)
    times = _interpolate(order, anchors) if anchors else {}
    estimated = sum(1 for s in order if s not in anchors) if anchors else 0
    if estimated:
        warnings.append(
            ParseWarning(
                None,
                f"{estimated} segment start times were estimated "
                "from their word position between OHMS sync points",
            )
        )
    segments: list[Segment] = []
    lines: list[int | None] = []
    speaker: str | None = None
    carried: tuple[int | None, int] | None = None  # (start ms, line) of a label-only turn
    referenced: set[str] = set()
    for n, start in enumerate(order):
        stop = order[n + 1] if n + 1 < len(order) else len(words)
        skip = 0
        if start in turns:
            speaker, skip = turns[start]
        elif start in headings:
            speaker = None  # a heading is nobody's speech and ends the current turn
        raw = " ".join(words[start + skip : stop])
        refs = [m.group(1).strip() for m in _FOOTNOTE_NUMBER.finditer(raw)]
        content = _LEFTOVER_MARKUP.sub("", _FOOTNOTE_REF.sub("", raw)).strip()
        start_ms = times.get(start)
        line = first_line + starts[start] - 1
        if not content and not refs:
            # A label alone (its words follow at a sync point): the turn starts here.
            if carried is None:
                carried = (start_ms, line)
            continue
        if carried is not None:
            if carried[0] is not None and (start_ms is None or carried[0] < start_ms):
                start_ms = carried[0]
            line = carried[1]
            carried = None
        if n + 1 < len(order):
            end_ms = times.get(stop)
        elif start_ms is not None and duration_ms is not None and duration_ms >= start_ms:
            end_ms = duration_ms
        else:
            end_ms = None
        note_text = "\n".join(
            f"[{ref}] {notes[ref][1]}" for ref in refs if ref in notes and notes[ref][1]
        )
        referenced.update(refs)
        note_only = content.startswith("[") and content.endswith("]") and start not in turns
        who = None if note_only else speaker
        segments.append(Segment(start_ms, end_ms, who, content, note=note_text or None))
        lines.append(line)
    for number, (note_line, note) in notes.items():
        if number not in referenced:
            warnings.append(
                ParseWarning(note_line, f"footnote {number} is referenced nowhere: {note}")
            )
    return segments, lines


def _is_heading(rest: str) -> bool:
    """``APPENDIX: SCIENTIST IN A JEEP``: what follows the label is itself in capitals."""
    letters = [c for c in rest if c.isalpha()]
    return len(letters) >= 4 and not any(c.islower() for c in letters)


def _line_of_word(word_at: Mapping[tuple[int, int], int], index: int) -> int:
    return next(line for (line, _w), i in word_at.items() if i == index)


def _interpolate(positions: list[int], anchors: dict[int, int]) -> dict[int, int]:
    """A time for each word position from the sync anchors: linear between anchors, from 0
    at word 0, and at the average pace of the synchronised part after the last anchor."""
    known = sorted({0: 0, **anchors}.items())
    known_words = [word for word, _ms in known]
    last_word, last_ms = known[-1]
    pace = last_ms / last_word if last_word else 0.0
    times = {}
    for position in positions:
        if position in anchors:
            times[position] = anchors[position]
            continue
        after_index = bisect_right(known_words, position)
        before = known[after_index - 1]
        after = known[after_index] if after_index < len(known) else None
        if after is None:
            times[position] = round(before[1] + (position - before[0]) * pace)
        else:
            share = (position - before[0]) / (after[0] - before[0])
            times[position] = round(before[1] + share * (after[1] - before[1]))
    return times


def _element(name: str, value: str) -> str:
    return f"<{name}>{xml_escape(value)}</{name}>" if value else f"<{name}/>"


def write(
    segments: Sequence[Segment],
    *,
    index_points: Sequence[IndexPoint] = (),
    metadata: Mapping[str, str] | None = None,
) -> str:
    """An OHMS 6 record in the current form: metadata, ``<index>``, ``<vtt_transcript>``."""
    meta = {k: " ".join(str(v).split()) for k, v in (metadata or {}).items() if v is not None}
    date = meta.get("date", "")
    iso = re.fullmatch(r"\d{4}-\d{2}-\d{2}", date)
    cue_text = vtt.write(segments) if segments else "WEBVTT\n"
    points = []
    for point in index_points:
        links = "".join(
            f"<hyperlinks>{_element('hyperlink', url)}{_element('hyperlink_text', text)}"
            "</hyperlinks>"
            for url, text in point.hyperlinks
        )
        points.append(
            "<point>"
            + _element("time", str(round(point.start_ms / 1000)))
            + _element("title", point.title)
            + _element("partial_transcript", point.partial_transcript)
            + _element("synopsis", point.synopsis)
            + _element("keywords", ";".join(point.keywords))
            + _element("subjects", ";".join(point.subjects))
            + (
                "<gpspoints>"
                + "".join(_element(name, getattr(point, name)) for name in _GPS_FIELDS)
                + "</gpspoints>"
                if point.gps
                else ""
            )
            + links
            + "</point>"
        )
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<ROOT xmlns="{NAMESPACE}">',
        "<record>",
        "<version>6.0</version>",
        f'<date value="{xml_escape(date) if iso else ""}" format="yyyy-mm-dd"/>',
        _element("date_nonpreferred_format", "" if iso else date),
        _element("title", meta.get("title", "")),
        _element("accession", meta.get("accession", "")),
        _element("repository", meta.get("repository", "")),
        _element("collection_name", meta.get("collection_name", "")),
        _element("series_name", meta.get("series_name", "")),
        _element("funding", meta.get("funding", "")),
        *(_element("subject", term) for term in _split_terms(meta.get("subjects", ""))),
        *(_element("keyword", term) for term in _split_terms(meta.get("keywords", ""))),
        _element("interviewee", meta.get("interviewee", "")),
        _element("interviewer", meta.get("interviewer", "")),
        _element("media_url", meta.get("media_url", "")),
        # what the OHMS viewer reads to choose its player ("Other": play media_url)
        "<mediafile><host>Other</host><clip_format>audio</clip_format></mediafile>",
        _element("duration", meta.get("duration", "")),
        _element("language", meta.get("language", "")),
        *(_element(name, meta[name]) for name in _GPS_FIELDS if meta.get(name)),
        _element("description", meta.get("description", "")),
        _element("rights", meta.get("rights", "")),
        _element("usage", meta.get("usage", "")),
        "<index>" + "".join(points) + "</index>",
        f"<vtt_transcript><![CDATA[{cue_text}]]></vtt_transcript>",
        "<fmt>audio</fmt>",
        "</record>",
        "</ROOT>",
    ]
    return "\n".join(parts) + "\n"
