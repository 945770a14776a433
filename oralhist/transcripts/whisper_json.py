"""JSON import and export: the Whisper family's output, and this archive's own export.

Accepted shapes (each checked against the tool's own output code):

* openai-whisper and faster-whisper: ``{"segments": [...]}`` (or a bare list), each segment
  with ``start``/``end`` in seconds, ``text`` and optional ``words`` (``word``, ``start``,
  ``end``, ``probability``);
* the OpenAI API ``verbose_json``: ``segments`` plus a top-level ``words`` list (no
  probability), shared out to the segments by time;
* WhisperX: segments whose ``words`` carry ``score`` and a word-level ``speaker``; a segment
  whose words change speaker becomes one segment per speaker run. A top-level
  ``word_segments`` list is used when the segments have no words. Words without times
  (WhisperX leaves numbers and symbols unaligned) are kept, untimed;
* whisper.cpp ``-oj`` / ``-ojf``: ``{"transcription": [...]}`` with ``offsets`` (ms) and,
  with ``-ojf``, ``tokens`` (sub-word pieces joined into words; special tokens such as
  ``[_BEG_]`` skipped; ``p`` is the confidence). ``-di`` adds ``speaker`` ("0", "1", "?"),
  kept as ``SPEAKER_0``...; ``-tdrz`` adds ``speaker_turn_next``, read as alternating
  speakers ``SPEAKER_A``/``SPEAKER_B`` (tinydiarize marks turns, not identities);
* our own export: ``start_ms``/``end_ms`` (integer milliseconds, ``null`` for untimed),
  ``speaker``, ``cue_id``, ``cue_settings``, ``note``, ``words`` as
  ``[{text, start_ms, end_ms, confidence}]``, ``index`` (index points) and ``metadata``.

Other keys are ignored. JSON has no line per segment, so errors name the segment number;
syntax errors name the line.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from oralhist.errors import TranscriptError

from .checks import check_timing
from .decoding import as_text
from .model import IndexPoint, ParseResult, ParseWarning, Segment, Word
from .timecode import MAX_TIME_MS

FORMAT = "json"


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _seconds_ms(value: Any, what: str, filename: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TranscriptError(
            f"{what} must be a number of seconds, not {_shown(value)}", filename=filename
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise TranscriptError(f"{what} must be a finite number of seconds", filename=filename)
    if value < 0:
        raise TranscriptError(f"{what} is negative ({_shown(value)})", filename=filename)
    # Compared before any conversion: a 400-digit int overflows float arithmetic.
    if value > MAX_TIME_MS // 1000:
        raise TranscriptError(
            f"{what} ({_shown(value)} s) is past the limit: times may be at most "
            f"{MAX_TIME_MS // 3_600_000} hours",
            filename=filename,
        )
    return int((Decimal(repr(value)) * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _shown(value: Any) -> str:
    """``repr`` cut short: a 400-digit number must not fill the error message."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


def _int_ms(value: Any, what: str, filename: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TranscriptError(
            f"{what} must be whole milliseconds, not {_shown(value)}", filename=filename
        )
    if value < 0:
        raise TranscriptError(f"{what} is negative ({_shown(value)})", filename=filename)
    if value > MAX_TIME_MS:
        raise TranscriptError(
            f"{what} ({_shown(value)} ms) is past the limit: times may be at most "
            f"{MAX_TIME_MS // 3_600_000} hours",
            filename=filename,
        )
    return value


def _string(value: Any, what: str, filename: str, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise TranscriptError(f"{what} must be a string, not {_shown(value)}", filename=filename)
    return value


def _strings(value: Any, what: str, filename: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part for part in value.split(";"))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TranscriptError(f"{what} must be a list of strings", filename=filename)
    return tuple(value)


def _confidence(value: Any, what: str, filename: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise TranscriptError(
            f"{what} must be a probability between 0 and 1, not {_shown(value)}",
            filename=filename,
        )
    return float(value)


def _word(item: Any, what: str, filename: str) -> tuple[Word, str | None]:
    """A word from any Whisper-family shape, with its (WhisperX) speaker."""
    if not isinstance(item, dict):
        raise TranscriptError(f"{what} is not an object", filename=filename)
    text = item.get("text", item.get("word"))
    text = _string(text, f"{what} 'word'", filename, required=True)
    if "start_ms" in item or "end_ms" in item:
        start = _int_ms(item.get("start_ms"), f"{what} 'start_ms'", filename)
        end = _int_ms(item.get("end_ms"), f"{what} 'end_ms'", filename)
        confidence = item.get("confidence")
    else:
        start = _seconds_ms(item.get("start"), f"{what} 'start'", filename)
        end = _seconds_ms(item.get("end"), f"{what} 'end'", filename)
        confidence = item.get("probability", item.get("score", item.get("confidence")))
    if start is not None and end is not None and end < start:
        raise TranscriptError(f"{what} ends before it starts", filename=filename)
    speaker = _string(item.get("speaker"), f"{what} 'speaker'", filename)
    word = Word(text, start, end, _confidence(confidence, f"{what} confidence", filename))
    return word, speaker


def _words(value: Any, what: str, filename: str) -> list[tuple[Word, str | None]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TranscriptError(f"{what} 'words' must be a list", filename=filename)
    return [_word(item, f"{what} word {n}", filename) for n, item in enumerate(value, 1)]


def _segments(item: Any, number: int, filename: str) -> list[Segment]:
    """One segment, or several when WhisperX's word-level speakers change within it."""
    what = f"segment {number}"
    if not isinstance(item, dict):
        raise TranscriptError(f"{what} is not an object", filename=filename)
    if "text" not in item:
        raise TranscriptError(f"{what} has no 'text'", filename=filename)
    text = _string(item["text"], f"{what} 'text'", filename, required=True)
    speaker = _string(item.get("speaker"), f"{what} 'speaker'", filename)
    if "start_ms" in item or "end_ms" in item:
        start = _int_ms(item.get("start_ms"), f"{what} 'start_ms'", filename)
        end = _int_ms(item.get("end_ms"), f"{what} 'end_ms'", filename)
    else:
        start = _seconds_ms(item.get("start"), f"{what} 'start'", filename)
        end = _seconds_ms(item.get("end"), f"{what} 'end'", filename)
    if start is None and end is not None:
        raise TranscriptError(f"{what} has an end but no start", filename=filename)
    extra = {
        name: _string(item.get(name), f"{what} {name!r}", filename)
        for name in ("cue_id", "cue_settings", "note")
    }
    words = _words(item.get("words"), what, filename)
    runs = _speaker_runs(words, speaker)
    if len(runs) <= 1:
        return [Segment(start, end, speaker, text, **extra, words=tuple(w for w, _s in words))]
    # The words change speaker: one segment per run, its text the run's words.
    segments = []
    for index, (run_speaker, run) in enumerate(runs):
        run_start = run[0].start_ms if index else start
        if run_start is None:
            run_start = start
        following = runs[index + 1][1][0].start_ms if index + 1 < len(runs) else None
        run_end = end if index + 1 == len(runs) else following
        if run_end is not None and run_start is not None and run_end < run_start:
            run_end = run_start
        text_of_run = " ".join(w.text for w in run)
        segments.append(Segment(run_start, run_end, run_speaker, text_of_run, words=tuple(run)))
    return segments


def _speaker_runs(
    words: list[tuple[Word, str | None]], default: str | None
) -> list[tuple[str | None, list[Word]]]:
    """Consecutive words of one speaker; unattributed words join the run they are in."""
    runs: list[tuple[str | None, list[Word]]] = []
    for word, speaker in words:
        speaker = speaker or (runs[-1][0] if runs else default)
        if runs and runs[-1][0] == speaker:
            runs[-1][1].append(word)
        else:
            runs.append((speaker, [word]))
    return runs


def _whisper_cpp(data: dict[str, Any], filename: str) -> list[dict[str, Any]]:
    """whisper.cpp ``-oj``/``-ojf`` items -> segment dicts in our own shape."""
    items = data["transcription"]
    if not isinstance(items, list):
        raise TranscriptError("'transcription' must be a list", filename=filename)
    segments: list[dict[str, Any]] = []
    turn = 0
    for number, item in enumerate(items, 1):
        what = f"transcription item {number}"
        if not isinstance(item, dict):
            raise TranscriptError(f"{what} is not an object", filename=filename)
        offsets = item.get("offsets")
        if not isinstance(offsets, dict):
            raise TranscriptError(f"{what} has no 'offsets'", filename=filename)
        segment: dict[str, Any] = {
            "start_ms": offsets.get("from"),
            "end_ms": offsets.get("to"),
            "text": item.get("text"),
        }
        speaker = item.get("speaker")
        if isinstance(speaker, str) and speaker.strip() not in {"", "?"}:
            segment["speaker"] = f"SPEAKER_{speaker.strip()}"
        if "speaker_turn_next" in item:
            segment["speaker"] = f"SPEAKER_{'AB'[turn % 2]}"
            if item.get("speaker_turn_next") is True:
                turn += 1
        tokens = item.get("tokens")
        if isinstance(tokens, list):
            segment["words"] = _cpp_words(tokens, what, filename)
        segments.append(segment)
    return segments


def _cpp_words(tokens: list[Any], what: str, filename: str) -> list[dict[str, Any]]:
    """Sub-word tokens joined into words: a token starting with a space starts a word."""
    words: list[dict[str, Any]] = []
    for n, token in enumerate(tokens, 1):
        if not isinstance(token, dict) or not isinstance(token.get("text"), str):
            raise TranscriptError(f"{what} token {n} has no 'text'", filename=filename)
        text = token["text"]
        if (text.startswith("[_") and text.endswith("]")) or not text.strip():
            continue  # [_BEG_], [_TT_150], [_SOT_]...
        offsets = token.get("offsets") if isinstance(token.get("offsets"), dict) else {}
        start, end = offsets.get("from"), offsets.get("to")
        p = token.get("p")
        if words and not text[:1].isspace():
            word = words[-1]
            word["text"] += text
            word["end_ms"] = end if end is not None else word["end_ms"]
            if isinstance(p, int | float) and word["confidence"] is not None:
                word["confidence"] = min(word["confidence"], p)
            continue
        confidence = p if isinstance(p, int | float) and 0 <= p <= 1 else None
        words.append({"text": text, "start_ms": start, "end_ms": end, "confidence": confidence})
    return words


def _share_out(segments: list[dict[str, Any]], words: list[Any], filename: str) -> None:
    """Put top-level words (OpenAI API, WhisperX ``word_segments``) into their segments
    by start time, where the segments have none of their own."""
    if any(isinstance(s, dict) and s.get("words") for s in segments):
        return
    starts = []
    for n, segment in enumerate(segments, 1):
        if not isinstance(segment, dict):
            return
        starts.append(_seconds_ms(segment.get("start"), f"segment {n} 'start'", filename))
    if any(s is None for s in starts):
        return
    for n, item in enumerate(words, 1):
        word, _speaker = _word(item, f"word {n}", filename)
        at = word.start_ms if word.start_ms is not None else None
        index = 0
        if at is not None:
            for i, start in enumerate(starts):
                if start <= at:
                    index = i
        segments[index].setdefault("words", []).append(item)


def _index_point(item: Any, number: int, filename: str) -> IndexPoint:
    what = f"index point {number}"
    if not isinstance(item, dict):
        raise TranscriptError(f"{what} is not an object", filename=filename)
    start = _int_ms(item.get("start_ms"), f"{what} 'start_ms'", filename)
    if start is None:
        raise TranscriptError(f"{what} has no 'start_ms'", filename=filename)
    links = item.get("hyperlinks") or []
    if not isinstance(links, list) or not all(
        isinstance(link, dict) and isinstance(link.get("url", ""), str) for link in links
    ):
        raise TranscriptError(
            f"{what} 'hyperlinks' must be a list of {{url, text}}", filename=filename
        )
    return IndexPoint(
        start_ms=start,
        title=_string(item.get("title", ""), f"{what} 'title'", filename) or "",
        partial_transcript=_string(item.get("partial_transcript", ""), what, filename) or "",
        synopsis=_string(item.get("synopsis", ""), f"{what} 'synopsis'", filename) or "",
        keywords=_strings(item.get("keywords"), f"{what} 'keywords'", filename),
        subjects=_strings(item.get("subjects"), f"{what} 'subjects'", filename),
        hyperlinks=tuple((link.get("url", ""), str(link.get("text") or "")) for link in links),
        **_gps(item.get("gps"), what, filename),
    )


def _gps(value: Any, what: str, filename: str) -> dict[str, str]:
    """``{"gps": "lat, long", "gps_zoom": "12", "gps_text": "label"}`` (as the API and the
    export give it); absent or null: no GPS point."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(value.get(k, ""), str) for k in ("gps", "gps_zoom", "gps_text")
    ):
        raise TranscriptError(
            f"{what} 'gps' must be an object of strings (gps, gps_zoom, gps_text)",
            filename=filename,
        )
    return {k: value.get(k, "") for k in ("gps", "gps_zoom", "gps_text")}


def parse(
    source: str | bytes, filename: str = "transcript.json", *, duration_ms: int | None = None
) -> ParseResult:
    text = as_text(source, filename)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise TranscriptError("is empty", filename=filename)
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise TranscriptError(
            f"is not valid JSON: {error.msg} (column {error.colno})",
            filename=filename,
            line=error.lineno,
        ) from error
    except (ValueError, RecursionError) as error:
        raise TranscriptError(f"is not valid JSON: {error}", filename=filename) from error

    header: dict[str, str] = {}
    index_items: Any = []
    if isinstance(data, dict):
        if "segments" not in data and isinstance(data.get("transcription"), list):
            data = {"segments": _whisper_cpp(data, filename)}
        if "segments" not in data:
            raise TranscriptError(
                "has no 'segments' list (Whisper) nor 'transcription' list (whisper.cpp)",
                filename=filename,
            )
        items = data["segments"]
        top_words = data.get("words") or data.get("word_segments")
        if isinstance(items, list) and isinstance(top_words, list) and top_words:
            _share_out(items, top_words, filename)
        metadata = data.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise TranscriptError("'metadata' must be an object", filename=filename)
        header = {str(k): str(v) for k, v in metadata.items() if v is not None and str(v).strip()}
        index_items = data.get("index") or []
    else:
        items = data
    if not isinstance(items, list):
        raise TranscriptError("'segments' must be a list", filename=filename)
    if not isinstance(index_items, list):
        raise TranscriptError("'index' must be a list", filename=filename)
    if not items:
        raise TranscriptError("has no segments", filename=filename)

    segments = [seg for n, item in enumerate(items, 1) for seg in _segments(item, n, filename)]
    index_points = [_index_point(item, n, filename) for n, item in enumerate(index_items, 1)]
    warnings: list[ParseWarning] = []
    lines: list[int | None] = [None] * len(segments)
    check_timing(segments, lines, filename, warnings, duration_ms=duration_ms)
    return ParseResult(FORMAT, segments, warnings, index_points, header, lines)


def words_json(words: Sequence[Word]) -> list[dict[str, Any]]:
    """Words as the JSON export and the API give them."""
    return [
        {"text": w.text, "start_ms": w.start_ms, "end_ms": w.end_ms, "confidence": w.confidence}
        for w in words
    ]


def segment_json(segment: Segment) -> dict[str, Any]:
    """A segment in the JSON export: times, speaker, text, words; cue id, cue settings and
    note only when it has them."""
    data: dict[str, Any] = {
        "start_ms": segment.start_ms,
        "end_ms": segment.end_ms,
        "speaker": segment.speaker,
        "text": segment.text,
    }
    for name in ("cue_id", "cue_settings", "note"):
        if getattr(segment, name) is not None:
            data[name] = getattr(segment, name)
    data["words"] = words_json(segment.words)
    return data


def write(
    segments: Sequence[Segment],
    *,
    index_points: Sequence[IndexPoint] = (),
    metadata: Mapping[str, str] | None = None,
) -> str:
    """Our JSON export: integer milliseconds, speakers, index points and metadata."""
    document: dict[str, Any] = {
        "segments": [segment_json(s) for s in segments],
        "index": [
            {
                "start_ms": p.start_ms,
                "title": p.title,
                "partial_transcript": p.partial_transcript,
                "synopsis": p.synopsis,
                "keywords": list(p.keywords),
                "subjects": list(p.subjects),
                "hyperlinks": [{"url": url, "text": text} for url, text in p.hyperlinks],
                "gps": (
                    {"gps": p.gps, "gps_zoom": p.gps_zoom, "gps_text": p.gps_text}
                    if p.gps
                    else None
                ),
            }
            for p in index_points
        ],
    }
    if metadata:
        document["metadata"] = {str(k): str(v) for k, v in metadata.items()}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
