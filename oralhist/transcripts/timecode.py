"""Timecodes at the edges: parse the forms transcripts and deep links use, format for output.

Inside the application time is always integer milliseconds.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

#: The latest time a transcript may mention: 100 hours. The longest oral-history sessions run
#: a working day; a cue at 10^9 hours is damage (and would overflow the database's integers).
MAX_TIME_MS = 100 * 3_600_000

_TIMECODE = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})(?:[.,](\d+))?")
_MAX_T_PARAM = 32


def _fraction_ms(digits: str | None) -> int:
    """Milliseconds from the digits after the decimal separator, rounded half up."""
    if not digits:
        return 0
    value = (Decimal("0." + digits) * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(value)


def parse_timecode(text: str) -> int:
    """``hh:mm:ss.ttt``, ``mm:ss.t``, ``hh:mm:ss,ttt`` (SRT) or ``hh:mm:ss`` -> milliseconds.

    Raises ``ValueError`` for anything else, and for minutes or seconds above 59.
    """
    match = _TIMECODE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not a timecode: {text!r}")
    hours_text, minutes_text, seconds_text, fraction = match.groups()
    hours = int(hours_text) if hours_text is not None else 0
    minutes, seconds = int(minutes_text), int(seconds_text)
    if seconds > 59 or (hours_text is not None and minutes > 59):
        raise ValueError(f"not a timecode (minutes and seconds go up to 59): {text!r}")
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + _fraction_ms(fraction)


def time_limit_problem(ms: int | None) -> str | None:
    """Why ``ms`` is not a time a transcript may hold (``None`` when it is)."""
    if ms is None or ms <= MAX_TIME_MS:
        return None
    hours = ms // 3_600_000
    shown = f"{hours:,} hours" if hours < 10**12 else f"about 10^{len(str(hours)) - 1} hours"
    return f"is {shown} into the recording; times may be at most {MAX_TIME_MS // 3_600_000} hours"


def format_timecode(ms: int, *, style: str = "vtt") -> str:
    """Milliseconds -> ``00:01:02.003`` (``vtt``), ``00:01:02,003`` (``srt``) or
    ``0:01:02`` (``hms``, for display: whole seconds, truncated)."""
    if isinstance(ms, bool) or not isinstance(ms, int) or ms < 0:
        raise ValueError(f"a timecode needs a non-negative int of milliseconds, not {ms!r}")
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    if style == "vtt":
        return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"
    if style == "srt":
        return f"{hours:02d}:{minutes:02d}:{seconds:02d},{millis:03d}"
    if style == "hms":
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    raise ValueError(f"unknown timecode style {style!r} (vtt, srt or hms)")


_SECONDS = re.compile(r"\d+(?:\.\d+)?")
_CLOCK = re.compile(r"(?:(\d+):)?(\d+):(\d{1,2}(?:\.\d+)?)")
_UNITS = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?", re.IGNORECASE)


def _seconds_to_ms(text: str) -> int:
    try:
        value = (Decimal(text) * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    except InvalidOperation as error:  # pragma: no cover - the regexes only pass numbers
        raise ValueError(f"not a number of seconds: {text!r}") from error
    return int(value)


def format_t_param(ms: int) -> str:
    """Milliseconds as the ``?t=`` value of a deep link (the inverse of ``parse_t_param``):
    seconds with at most three decimals, ``"124.991"``, ``"12.5"``, ``"90"``."""
    whole, rest = divmod(int(ms), 1000)
    return f"{whole}.{rest:03d}".rstrip("0") if rest else str(whole)


def parse_t_param(value: str) -> int:
    """A deep-link ``?t=`` value -> milliseconds.

    Accepts seconds (``90``, ``90.5``), clock time (``1:30``, ``00:01:30``) and units
    (``1h2m3s``, ``2m``, ``45s``). Raises ``ValueError`` otherwise.
    """
    text = (value or "").strip()
    if not text or len(text) > _MAX_T_PARAM:
        raise ValueError(f"not a time: {value!r}")
    if _SECONDS.fullmatch(text):
        return _seconds_to_ms(text)
    clock = _CLOCK.fullmatch(text)
    if clock:
        hours_text, minutes_text, seconds_text = clock.groups()
        minutes = int(minutes_text)
        seconds_ms = _seconds_to_ms(seconds_text)
        if seconds_ms >= 60_000 or (hours_text is not None and minutes > 59):
            raise ValueError(f"not a time (minutes and seconds go up to 59): {value!r}")
        hours = int(hours_text) if hours_text is not None else 0
        return (hours * 60 + minutes) * 60_000 + seconds_ms
    units = _UNITS.fullmatch(text)
    if units and any(units.groups()):
        hours_text, minutes_text, seconds_text = units.groups()
        total = _seconds_to_ms(seconds_text) if seconds_text else 0
        total += int(minutes_text or 0) * 60_000 + int(hours_text or 0) * 3_600_000
        return total
    raise ValueError(f"not a time: {value!r}")
