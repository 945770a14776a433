"""JSON import and export: Whisper-style segments, and this archive's own export.

Accepted: ``{"segments": [...]}`` or a bare list of segments. Each segment has ``text`` and
either Whisper's ``start``/``end`` (seconds, numbers) or our ``start_ms``/``end_ms``
(integer milliseconds, ``null`` for untimed); ``speaker`` is optional (WhisperX's
``SPEAKER_00`` is kept as is). Other keys (``id``, ``words``, ``avg_logprob``...) are
ignored. Our export adds ``index`` (index points) and ``metadata`` (the header), which are
read back. JSON has no line per segment, so errors name the segment number; syntax errors
name the line.
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
from .model import IndexPoint, ParseResult, ParseWarning, Segment

FORMAT = "json"


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _seconds_ms(value: Any, what: str, filename: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TranscriptError(
            f"{what} must be a number of seconds, not {value!r}", filename=filename
        )
    if value < 0:
        raise TranscriptError(f"{what} is negative ({value})", filename=filename)
    return int((Decimal(repr(value)) * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _int_ms(value: Any, what: str, filename: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TranscriptError(
            f"{what} must be whole milliseconds, not {value!r}", filename=filename
        )
    if value < 0:
        raise TranscriptError(f"{what} is negative ({value})", filename=filename)
    return value


def _string(value: Any, what: str, filename: str, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise TranscriptError(f"{what} must be a string, not {value!r}", filename=filename)
    return value


def _strings(value: Any, what: str, filename: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part for part in value.split(";"))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TranscriptError(f"{what} must be a list of strings", filename=filename)
    return tuple(value)


def _segment(item: Any, number: int, filename: str) -> Segment:
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
    return Segment(start, end, speaker, text)


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
    )


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
        if "segments" not in data:
            raise TranscriptError("has no 'segments' list", filename=filename)
        items = data["segments"]
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

    segments = [_segment(item, n, filename) for n, item in enumerate(items, 1)]
    index_points = [_index_point(item, n, filename) for n, item in enumerate(index_items, 1)]
    warnings: list[ParseWarning] = []
    lines: list[int | None] = [None] * len(segments)
    check_timing(segments, lines, filename, warnings, duration_ms=duration_ms)
    return ParseResult(FORMAT, segments, warnings, index_points, header, lines)


def write(
    segments: Sequence[Segment],
    *,
    index_points: Sequence[IndexPoint] = (),
    metadata: Mapping[str, str] | None = None,
) -> str:
    """Our JSON export: integer milliseconds, speakers, index points and metadata."""
    document: dict[str, Any] = {
        "segments": [
            {"start_ms": s.start_ms, "end_ms": s.end_ms, "speaker": s.speaker, "text": s.text}
            for s in segments
        ],
        "index": [
            {
                "start_ms": p.start_ms,
                "title": p.title,
                "partial_transcript": p.partial_transcript,
                "synopsis": p.synopsis,
                "keywords": list(p.keywords),
                "subjects": list(p.subjects),
                "hyperlinks": [{"url": url, "text": text} for url, text in p.hyperlinks],
            }
            for p in index_points
        ],
    }
    if metadata:
        document["metadata"] = {str(k): str(v) for k, v in metadata.items()}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
