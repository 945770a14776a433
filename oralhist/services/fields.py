"""Input checking shared by the forms and the JSON API.

A ``Fields`` reader pulls typed values out of a mapping (form data or decoded JSON) and
collects every problem, so one request gets one 422 that lists all of them by field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ValidationError

#: The largest id a row can have: PostgreSQL's ``INTEGER`` (SQLite's is wider). A larger number
#: names no row; passed to the driver it overflows (``?page=99999999999999999999`` and
#: ``/interviews/99999999999999999999`` answered 500 before this bound existed).
MAX_ID = 2**31 - 1
#: The last list page anyone may ask for. Far beyond any real list (a million pages of the
#: largest page size is 10^8 rows), and small enough that ``page * per_page`` stays a valid
#: SQL ``OFFSET`` on every database.
MAX_PAGE = 1_000_000
#: The longest time, in milliseconds, accepted anywhere a time is typed in: 100 hours. No
#: oral-history recording is that long (the longest sessions are a working day); a larger
#: number is a typo or an attack (a ``start_ms`` of 10^30 used to overflow into a 500).
MAX_TIME_MS = 100 * 3600 * 1000

#: The most terms one list field (subjects, keywords) holds: far more than any catalogue
#: record carries, few enough that one record's cost in the index stays bounded.
MAX_TERMS = 200
WEB_ADDRESS = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)

PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def parse_partial_date(value: str) -> str:
    """Check a partial ISO date (``1957``, ``1957-03``, ``1957-03-12``) and return it.

    Stored as text, a partial date sorts correctly and a year range is a text range.
    """
    match = PARTIAL_DATE.match(value)
    if not match:
        raise ValueError("use YYYY, YYYY-MM or YYYY-MM-DD, e.g. 1957 or 1957-03-12")
    year, month, day = match.groups()
    if month and not 1 <= int(month) <= 12:
        raise ValueError(f"month {month} does not exist")
    if day:
        try:
            dt.date(int(year), int(month), int(day))
        except ValueError:
            raise ValueError(f"{value} is not a date in the calendar") from None
    return value


def whole_number(raw: Any, name: str, *, minimum: int | None = None, maximum: int = MAX_ID) -> int:
    """``raw`` (an int, or digits as text) as an int within ``minimum``..``maximum``, or a
    ``ValidationError`` (422) naming the field and the bound. The one integer reader for the
    edge: pages, ids and times all come through here or through ``Fields.integer``."""
    problem = whole_number_problem(raw, minimum, maximum)
    if problem:
        raise ValidationError(f"{name} {problem}.", fields={name: problem})
    return int(raw)


def record_id(raw: Any) -> int | None:
    """``raw`` as a database id, or None when it cannot name a row (not a whole number, below
    1 or beyond ``MAX_ID``): callers answer "not found" rather than pass it to the driver."""
    if whole_number_problem(raw, 1, MAX_ID):
        return None
    return int(raw)


def whole_number_problem(raw: Any, minimum: int | None, maximum: int | None) -> str | None:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        return "must be a whole number"
    if isinstance(raw, str):
        text = raw.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if not digits.isascii() or not digits.isdigit():
            return "must be a whole number"
        # No int() of thousands of digits: a 31-digit number is beyond every bound anyway.
        value = int(text) if len(digits) <= 30 else int(text[: len(text) - len(digits) + 31])
    else:
        value = raw
    if minimum is not None and value < minimum:
        return f"must be at least {minimum}"
    if maximum is not None and value > maximum:
        return f"must be at most {maximum}"
    return None


class Fields:
    """Reads fields from ``data``; ``partial=True`` (PATCH) skips absent fields."""

    def __init__(self, data: Mapping[str, Any] | None, *, partial: bool = False):
        if data is not None and not isinstance(data, Mapping):
            raise ValidationError("The request body must be a JSON object.")
        self.data = data or {}
        self.partial = partial
        self.errors: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def present(self, name: str) -> bool:
        return name in self.data

    def _raw(self, name: str):
        return self.data.get(name)

    def string(
        self, name: str, *, required: bool = False, max_length: int = 255, default: str = ""
    ) -> None:
        if self.partial and not self.present(name):
            return
        raw = self._raw(name)
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            self.errors[name] = "must be text"
            return
        value = raw.strip()
        if required and not value:
            self.errors[name] = "is required"
            return
        if len(value) > max_length:
            self.errors[name] = f"is too long ({len(value)} characters; at most {max_length})"
            return
        self.values[name] = value or default

    def choice(self, name: str, choices: Iterable[str], *, default: str | None = None) -> None:
        if self.partial and not self.present(name):
            return
        raw = self._raw(name)
        choices = tuple(choices)
        if raw in (None, "") and default is not None:
            self.values[name] = default
            return
        if not isinstance(raw, str) or raw not in choices:
            self.errors[name] = f"must be one of: {', '.join(choices)}"
            return
        self.values[name] = raw

    def partial_date(self, name: str) -> None:
        if self.partial and not self.present(name):
            return
        raw = self._raw(name)
        if raw in (None, ""):
            self.values[name] = ""
            return
        if not isinstance(raw, str):
            self.errors[name] = "must be text such as 1957 or 1957-03-12"
            return
        try:
            self.values[name] = parse_partial_date(raw.strip())
        except ValueError as exc:
            self.errors[name] = str(exc)

    def date(self, name: str) -> None:
        if self.partial and not self.present(name):
            return
        raw = self._raw(name)
        if raw in (None, ""):
            self.values[name] = None
            return
        if isinstance(raw, dt.date):
            self.values[name] = raw
            return
        try:
            self.values[name] = dt.date.fromisoformat(str(raw).strip())
        except ValueError:
            self.errors[name] = "must be a full date, YYYY-MM-DD"

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        minimum: int | None = None,
        maximum: int = MAX_ID,
    ) -> None:
        """A whole number within ``minimum``..``maximum`` (by default the database's integer
        range, so an id or count that reaches the driver never overflows)."""
        if self.partial and not self.present(name):
            return
        raw = self._raw(name)
        if raw in (None, ""):
            if required:
                self.errors[name] = "is required"
            else:
                self.values[name] = None
            return
        problem = whole_number_problem(raw, minimum, maximum)
        if problem:
            self.errors[name] = problem
            return
        self.values[name] = int(raw)

    def terms(self, name: str, *, max_terms: int = MAX_TERMS, max_length: int = 255) -> None:
        """A list of terms (subjects, keywords): a JSON list of texts, or one text with the
        terms separated by ``;`` or new lines (a form field). Blank and repeated terms are
        dropped, the order kept."""
        if self.partial and not self.present(name):
            return
        raw = self._raw(name)
        if raw is None:
            raw = []
        if isinstance(raw, str):
            raw = re.split(r"\s*[;\n]\s*", raw)
        if not isinstance(raw, list) or not all(isinstance(term, str) for term in raw):
            self.errors[name] = "must be a list of texts (or one text, terms separated by ;)"
            return
        kept: list[str] = []
        for term in (" ".join(term.split()) for term in raw):
            if len(term) > max_length:
                self.errors[name] = f"has a term of {len(term)} characters (at most {max_length})"
                return
            if term and term not in kept:
                kept.append(term)
        if len(kept) > max_terms:
            self.errors[name] = f"has {len(kept)} terms (at most {max_terms})"
            return
        self.values[name] = kept

    def web_address(self, name: str, *, max_length: int = 2048) -> None:
        """An http(s) address, or empty."""
        self.string(name, max_length=max_length)
        value = self.values.get(name)
        if value and not WEB_ADDRESS.match(value):
            del self.values[name]
            self.errors[name] = "must be an http:// or https:// address"

    def check(self) -> dict[str, Any]:
        """Return the values, or raise one ValidationError listing every field's problem."""
        if self.errors:
            listed = "; ".join(f"{k} {v}" for k, v in self.errors.items())
            raise ValidationError(f"Please correct: {listed}.", fields=self.errors)
        return self.values


def page_args(
    args: Mapping[str, Any], *, default_per_page: int, max_per_page: int
) -> tuple[int, int]:
    """``page`` and ``per_page`` from query arguments, validated (a 422 names the bad one;
    a page beyond ``MAX_PAGE`` is refused, not passed on as an overflowing OFFSET)."""
    fields = Fields(args)
    fields.integer("page", minimum=1, maximum=MAX_PAGE)
    fields.integer("per_page", minimum=1)
    values = fields.check()
    per_page = values.get("per_page") or default_per_page
    if per_page > max_per_page:
        raise ValidationError(
            f"per_page must be at most {max_per_page}.", fields={"per_page": "too large"}
        )
    return values.get("page") or 1, per_page
