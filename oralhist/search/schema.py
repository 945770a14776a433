"""The index schema, its analyzers, and the mapping from the app's dicts to index fields.

Two text fields carry every searchable word: ``body`` (folded, stop words dropped, stemmed,
frequencies only: plain words and relevance) and ``exact`` (folded, every word, with
positions: quoted phrases, prefixes, wildcards and fuzzy words). Folding is lower case plus
accents removed (``André`` matches ``andre``).

Measured on the synthetic archive: a word read from ``exact`` cost ~590 ns a posting with
whoosh's block format (every position unpickled with its block), from ``body`` ~150 ns (the
codec has since narrowed both: ``codec.py``); a single stemmed-at-query field was 1.8x
faster to build but 2-4x slower to search, and searching is what every researcher waits for.

Per-document columns (``c_*``) are read in bulk per index segment: they are what grouping,
facets, ``kind:``, interview filters and the access restriction work from, without loading
stored fields. The stored ``text`` is what snippets are cut from.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise
from pickle import dumps

from whoosh import columns, fields
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.lang import has_stemmer, stemmer_for_language, stopwords_for_language
from whoosh.support.charset import accent_map
from whoosh.system import pack_uint

KINDS = ("segment", "interview", "index", "document")
WORD_KINDS = ("segment", "index")
# A hidden per-interview record holding the card shown on a result (never matched).
CARD_KIND = "card"
# Longest stored text a document keeps for its snippet; the rest is searchable only.
DOCUMENT_SNIPPET_SOURCE = 20_000
# Longest stored text a segment keeps for its snippet: the highlighter looks no further for a
# match (``highlight.MAX_SCAN``), and each hit loads its stored text (a 24 MB cue did).
SEGMENT_SNIPPET_SOURCE = 250_000
NAME_SEPARATOR = "\x1f"


def folding_analyzer():
    """Words, lower-cased and with accents removed: ``Hélène`` -> ``helene``."""
    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


# whoosh's default token pattern (``RegexTokenizer``), without its capturing group.
_WORDS = re.compile(r"[\w\*]+(?:\.?[\w\*]+)*")
_findall = _WORDS.findall


def folded_words(text: str) -> list[str]:
    """What ``folding_analyzer`` makes of ``text``, as a list of words, in one regex pass
    (ASCII text: lower-casing first gives the same words, and ``accent_map`` leaves lower-case
    ASCII alone)."""
    if text.isascii():
        return _findall(text.lower())
    return [w.lower().translate(accent_map) for w in _findall(text)]


class Language:
    """Stemming and stop words for one language (``None``: neither), the same at index and
    at query time: ``analyzer()`` is the ``body`` field's analyzer, ``body_form(word)`` what
    it makes of one folded word (``None`` for a stop word)."""

    def __init__(self, language: str | None) -> None:
        self.code = language
        self.stopwords: frozenset[str] = frozenset()
        self.stem = None
        if language is None:
            return
        if not has_stemmer(language):
            raise ValueError(f"No stemmer for language {language!r}; use None to disable stemming")
        stem = stemmer_for_language(language)
        fold = folding_analyzer()
        try:
            words = stopwords_for_language(language)
        except KeyError:
            words = ()
        self.stopwords = frozenset(t.text for w in words for t in fold(w))
        cache: dict[str, str] = {}

        def cached(word: str) -> str:
            found = cache.get(word)
            if found is None:
                if len(cache) > 200_000:
                    cache.clear()
                found = cache[word] = stem(word)
            return found

        self.stem = cached

    def analyzer(self):
        analyzer = folding_analyzer()
        if self.code is None:
            return analyzer
        if self.stopwords:
            analyzer = analyzer | StopFilter(stoplist=self.stopwords, minsize=1)
        return analyzer | StemFilter(lang=self.code, cachesize=100_000)

    def body_form(self, word: str) -> str | None:
        if self.stem is None:
            return word
        if word in self.stopwords:
            return None
        return self.stem(word)


_LANGUAGES: dict[str | None, Language] = {}


# ``pack_uint(n)`` (a posting's frequency) for the usual small ``n``, and the ``exact``
# field's value of a word seen once at position ``i`` (``pack_uint(1) + dumps([i], 2)``):
# most words of a segment are seen once, and these bytes are the same for every segment.
_PACKED_COUNTS = [pack_uint(n) for n in range(256)]
_ONCE_AT = [_PACKED_COUNTS[1] + dumps([i], 2) for i in range(1024)]
# Longest text whose analysis ``body`` and ``exact`` share (``_FastText``): a segment is ~70
# characters; a longer text is analysed for each field.
SHARED_ANALYSIS_CHARS = 100_000


def word_positions(text: str) -> dict[str, list[int]]:
    """Each folded word of ``text`` (``folded_words``) with its positions, in the order the
    words first appear."""
    seen: dict[str, list[int]] = {}
    get = seen.get
    for i, w in enumerate(folded_words(text)):
        found = get(w)
        if found is None:
            seen[w] = [i]
        else:
            found.append(i)
    return seen


class _FastText(fields.TEXT):
    """A TEXT field whose ``index`` skips whoosh's per-token generator chain: the same terms,
    frequencies, weights and encoded values as its analyzer and format would give (the
    analyzer stays, for anything else that asks for it), at a fraction of the cost. Indexing
    speed is dominated by this call (two text fields per segment).

    ``body`` and ``exact`` index the same text (``index_fields`` gives both one string, which
    stays one object through the rebuild's job files): its folded words and their positions
    are worked out once, for whichever field asks first, and kept for the other (the last
    text analysed, held by identity). ``body`` then stems each distinct word once, not each
    occurrence. Both fields of a synthetic archive's segment: 27.8 -> 17.0 us."""

    # (the last text analysed, its ``word_positions``): one immutable pair, replaced whole,
    # so a writer in another thread reads a consistent pair. It is let go once the second
    # field has taken it, and a long text is not kept (a 24 MB cue's positions would stay in
    # a serving process's memory until the next write).
    _last: tuple[str | None, dict[str, list[int]]] = (None, {})

    def index(self, value, **kwargs):
        if not isinstance(value, str):
            return super().index(value, **kwargs)
        last, seen = _FastText._last
        if value is last:
            _FastText._last = (None, {})
        else:
            seen = word_positions(value)
            _FastText._last = (value, seen) if len(value) <= SHARED_ANALYSIS_CHARS else (None, {})
        return self._index(seen)


class BodyText(_FastText):
    """``body``: folded, stop words dropped, stemmed; frequencies only (whoosh's
    ``StopFilter(minsize=1)`` and ``StemFilter``, through ``Language``'s stem cache)."""

    def __init__(self, language: str | None) -> None:
        super().__init__(analyzer=Language(language).analyzer(), phrase=False)
        self.language_code = language

    def _index(self, seen):
        lang = _LANGUAGES.get(self.language_code)
        if lang is None:
            lang = _LANGUAGES[self.language_code] = Language(self.language_code)
        if lang.stem is None:
            counts = {w: len(poses) for w, poses in seen.items()}
        else:
            stop, stem = lang.stopwords, lang.stem
            counts: dict[str, int] = {}
            get = counts.get
            for w, poses in seen.items():
                if stop and (not w or w in stop):
                    continue
                form = stem(w)
                counts[form] = get(form, 0) + len(poses)
        fb = self.format.field_boost
        packed = _PACKED_COUNTS
        return [
            (w.encode("utf8"), n, float(n) * fb, packed[n] if n < 256 else pack_uint(n))
            for w, n in counts.items()
        ]


class ExactText(_FastText):
    """``exact``: folded, every word, with positions (whoosh's ``Positions`` encoding)."""

    def __init__(self) -> None:
        super().__init__(analyzer=folding_analyzer(), phrase=True)

    def _index(self, seen):
        fb = self.format.field_boost
        once = _ONCE_AT
        out = []
        for w, poses in seen.items():
            n = len(poses)
            if n == 1:
                i = poses[0]
                value = once[i] if i < 1024 else _PACKED_COUNTS[1] + dumps(poses, 2)
            else:
                deltas = [poses[0], *(b - a for a, b in pairwise(poses))]
                value = (_PACKED_COUNTS[n] if n < 256 else pack_uint(n)) + dumps(deltas, 2)
            out.append((w.encode("utf8"), n, float(n) * fb, value))
        return out


class SpeakerKey(fields.KEYWORD):
    """``speaker_key``: the folded speaker name, whole, as one term (``KEYWORD(commas=True)``).
    ``index`` skips whoosh's analyzer chain for what ``fold`` gives (no comma, no outer
    space): the same term, frequency, weight and value; anything else takes whoosh's path.
    Scorable only so that whoosh keeps a length column for it (a non-scorable field costs a
    file-exists check per posting at commit)."""

    def __init__(self) -> None:
        super().__init__(commas=True, scorable=True)

    def index(self, value, **kwargs):
        if isinstance(value, str) and value and "," not in value and value == value.strip():
            return [(value.encode("utf8"), 1, self.format.field_boost, pack_uint(1))]
        return super().index(value, **kwargs)


def build_schema(language: str | None) -> fields.Schema:
    """Segments carry as few fields as possible (indexing speed): their interview-level facts
    (collection, narrators, year, language) live once on the interview's hidden card record,
    and filters on them are resolved to a set of interviews (``InterviewSet``)."""
    return fields.Schema(
        # Only documents and cards carry these: segments are found by their columns (an ID
        # posting per segment costs indexing time and nothing else needs it).
        doc_id=fields.ID(unique=True),
        kind=fields.ID(),
        body=BodyText(language),
        exact=ExactText(),
        speaker_key=SpeakerKey(),
        # Cards (and documents, for year): what interview-level filters search.
        narrator=fields.TEXT(analyzer=folding_analyzer(), phrase=True),
        narrator_key=fields.KEYWORD(commas=True),
        collection=fields.ID(),
        language=fields.ID(),
        year=fields.NUMERIC(int, bits=32, signed=True),
        # Stored: what a hit shows.
        stored=fields.STORED(),
        # Columns: read in bulk for grouping, facets and the access restriction.
        c_iid=fields.COLUMN(columns.NumericColumn("I", default=0)),
        c_kind=fields.COLUMN(columns.RefBytesColumn()),
        c_acl=fields.COLUMN(columns.RefBytesColumn()),
        c_speaker=fields.COLUMN(columns.RefBytesColumn()),
    )


@lru_cache(maxsize=4_096)
def fold(text: str) -> str:
    """The folded form of a name or key, as the filters and facets compare them. Remembered:
    every segment's speaker is folded (``index_fields``), and an interview has a few."""
    return " ".join(folded_words(text))


KIND_CODES = {"segment": "s", "index": "p", "interview": "c", "document": "d", CARD_KIND: "x"}


def acl_token(doc: dict) -> bytes:
    """What the access restriction (and ``kind:``) needs to know of a record, as a short value
    shared by many records (a ``RefBytesColumn``).

    ``s:<level>:<embargo>`` / ``p:...`` for the words of a published interview's segments /
    index points, ``s:draft`` / ``p:draft`` for a draft's; ``c:pub`` / ``c:draft:<owner>`` for
    catalogue records; ``d:<level>`` for documents. Interview ids are a separate column.

    A record written for one audience only (``audience``: ``public`` for what everyone but
    archivists sees of a partly withheld interview, ``archivist`` for the whole of it) ends
    in ``|p`` / ``|a`` (``restriction.acl_verdict``).
    """
    suffix = {"public": b"|p", "archivist": b"|a"}.get(doc.get("audience") or "", b"")
    return _acl_token(doc) + suffix


def _acl_token(doc: dict) -> bytes:
    kind = doc["kind"]
    code = KIND_CODES[kind]
    if kind == "document":
        return f"d:{doc.get('access_level') or 'closed'}".encode()
    published = doc.get("status") == "published"
    if kind == "interview":
        if published:
            return b"c:pub"
        owner = doc.get("owner_id")
        return f"c:draft:{'' if owner is None else int(owner)}".encode()
    if not published:
        return f"{code}:draft".encode()
    level = doc.get("access_level") or "closed"
    return f"{code}:{level}:{int(doc.get('embargo_until') or 0)}".encode()


def _join(*parts) -> str:
    out = []
    for p in parts:
        if not p:
            continue
        if isinstance(p, list | tuple):
            out.extend(str(x) for x in p if x)
        else:
            out.append(str(p))
    return "\n".join(out)


def card_of(doc: dict) -> dict:
    """The interview-level fields a result card shows, from any document of the interview."""
    return {
        "interview_id": int(doc["interview_id"]),
        "accession": doc.get("accession") or "",
        "title": doc.get("interview_title") or doc.get("title") or "",
        "collection": doc.get("collection") or "",
        "collection_title": doc.get("collection_title") or "",
        "narrators": list(doc.get("narrators") or []),
        "year": doc.get("year"),
        "date_recorded": doc.get("date_recorded") or "",
        "language": doc.get("language") or "",
    }


def card_fields(card: dict) -> dict:
    iid = card["interview_id"]
    out = {
        "doc_id": f"card:{iid}",
        "kind": CARD_KIND,
        "stored": card,
        "c_iid": iid,
        "c_kind": CARD_KIND.encode(),
        "c_acl": b"x",
    }
    narrators = [n for n in card.get("narrators") or [] if n]
    if narrators:
        out["narrator"] = "\n".join(narrators)
        out["narrator_key"] = ",".join(k for k in (fold(n) for n in narrators) if k)
    if card.get("collection"):
        out["collection"] = str(card["collection"]).lower()
    if card.get("language"):
        out["language"] = str(card["language"]).lower()
    if card.get("year") is not None:
        out["year"] = int(card["year"])
    return out


def index_fields(doc: dict) -> dict:
    """The whoosh fields of one app document (segment, interview, index point, document)."""
    kind = doc.get("kind")
    if kind not in KINDS:
        raise ValueError(f"unknown index document kind {kind!r}")
    doc_id = doc.get("doc_id")
    if not doc_id:
        raise ValueError("index document without doc_id")
    out: dict = {"c_kind": kind.encode(), "c_acl": acl_token(doc)}
    year = doc.get("year")
    if kind == "document":
        title = doc.get("title") or ""
        words = _join(title, doc.get("creators"), doc.get("description"), doc.get("text"))
        source = _join(doc.get("description"), doc.get("text"))[:DOCUMENT_SNIPPET_SOURCE]
        out["doc_id"] = doc_id
        out["kind"] = kind
        if year is not None:
            out["year"] = int(year)
        out["stored"] = {
            "document_id": int(doc["document_id"]),
            "title": title,
            "text": source,
            "year": year,
        }
    else:
        iid = int(doc["interview_id"])
        out["c_iid"] = iid
        stored: dict = {"iid": iid, "kind": kind}
        if kind == "segment":
            text = doc.get("text") or ""
            words = text
            speaker = doc.get("speaker") or ""
            if speaker:
                out["speaker_key"] = fold(speaker)
                out["c_speaker"] = speaker.encode()
            stored.update(
                seg=doc.get("segment_id"),
                start=doc.get("start_ms"),
                end=doc.get("end_ms"),
                speaker=speaker,
                text=text[:SEGMENT_SNIPPET_SOURCE],
            )
        elif kind == "index":
            text = _join(doc.get("title"), doc.get("synopsis"), doc.get("keywords"))
            words = _join(text, doc.get("text"))
            stored.update(
                start=doc.get("start_ms"),
                end=None,
                speaker="",
                text=_join(
                    doc.get("title"),
                    doc.get("synopsis"),
                    "; ".join(doc.get("keywords") or []),
                    doc.get("text"),
                ),
            )
        else:  # interview catalogue record
            words = _join(
                doc.get("title"),
                doc.get("accession"),
                doc.get("summary"),
                doc.get("people"),
                doc.get("narrators"),
                doc.get("place"),
                doc.get("terms"),
            )
            stored.update(text=doc.get("summary") or "")
        out["stored"] = stored
    out["body"] = words
    out["exact"] = words
    return out
