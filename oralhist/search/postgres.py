"""The PostgreSQL search backend (``SEARCH_BACKEND = "postgresql"``, issue 18 item 1): the
index lives in the archive's own PostgreSQL database, so every web host searches the same
data with no index folder to share.

Layout (in the schema ``SEARCH_PG_SCHEMA``, default ``search``, created by ``create()``, i.e.
by ``oralhist init`` and ``oralhist reindex``; it is derived data, like the Whoosh folder, so it
is not part of the app's migrations):

- ``slice``: what a group of records shares (interview or document, kind, access facts,
  speaker, year): every query's scope, speaker, kind and interview conditions read it;
- ``hit``: one narrow row per searchable record (segment, index point, catalogue record,
  document): its slice and ``tsv``, a ``tsvector`` with a GIN index;
- ``record``: what a moment shows (times, speaker, the text snippets are cut from);
- ``card``: one row per interview: what a result card shows and what interview filters and
  facets read (collection, narrators, language, year);
- ``word``: the folded vocabulary with record counts (prefixes, wildcards, fuzzy words and
  "did you mean" expand against it, as Whoosh's do against its term list);
- ``tally`` and ``tally_more``: the frequent lexemes' matches counted per slice (below);
- ``meta``: the layout version and the analysis language the rows were written with.

Analysis is done in Python by the same ``schema.Language`` as the Whoosh engine (folding =
lower case + accents removed, the language's stop words and Snowball stemmer), and written as
explicit lexemes: every folded word at its position, every non-stop word's stem marked
``~``, and every word's prefixes of 3 to 6 letters marked ``>`` (``PREFIX_LENGTHS``:
``'cotton':7 '~cotton' '>cot' '>cott' '>cotto' '>cotton'``). So both backends find exactly the same
records for the same query, and the contract suite holds unchanged; PostgreSQL's own
``english`` configuration with ``unaccent`` would stem and split words differently (its parser
reads ``<b>`` as a tag, ``l'usine`` and ``e-mail`` otherwise). Phrases use ``<->`` over the
positions; PostgreSQL keeps positions up to 16,383 per record (a phrase later in a longer
record is matched only by its words), and at most ``MAX_LEXEME_BYTES`` of distinct words per
record (the rest of a giant single-cue text is not searchable here; Whoosh indexes it all).

Index work comes from the same ``IndexTask`` outbox as Whoosh (``process_pending`` calls
``apply_read_under_lock``): the rows are written by the indexer duty, not by triggers, so the
analysis stays in one place (Python) and a web request never pays for it. The write lock is a
PostgreSQL advisory lock; a rebuild fills fresh tables and swaps them in by renaming, so the
old ones stay searchable meanwhile and the GIN index is built once, in bulk.

Counting (layout 3, issue 18). Totals, the kind and speaker facets and the order of the
groups need each matching slice's number of matching records, never the records: a GIN index
gives row locations, not values, so on the GIN path every match's ``hit`` row is read to learn
its slice (layout 2: about 6 us per match; "work", 28 k records at 1,000 interviews, read
29 k of ``hit``'s 35 k pages, 175 ms of CPU). So:

- ``tally`` holds, for each *frequent* lexeme, how many records of each slice have it: one
  row per lexeme, the slice ids and their counts in two arrays. A lexeme is tallied when, at
  the last rebuild, it was in at least ``TALLY_THRESHOLD`` records and it is a stem (``~``), a
  prefix (``>``) or a stop word (what a query of plain words, a prefix or a stop word alone
  matches; other words only match quoted, alone). Rows of (lexeme, slice) read by an
  index-only scan were the first design: 14.8 M rows, 1.6 GB at 1,000 interviews (T = 500),
  more than the whole index; in arrays (compressed by TOAST) 7.5 M counts take 36 MB.
- ``TALLY_THRESHOLD`` = 2,000, measured at 1,000 interviews (a researcher's search, median
  wall ms, tally / GIN path, by the stem's records): 2 k 17.9 / 19.8, 3 k 20.8 / 25.9,
  5 k 26 / 35, 8 k 30 / 45, 20 k 38 / 119, 28 k 39 / 159. Below 2 k the two cost the same
  (the shown moments and the cards dominate), so tallying more would only grow the table.
- A query whose text match is one positive tallied lexeme, with only slice conditions beside
  it (scope, speaker, kind, interview and year filters: ``PgCompiler.single_lexeme``), counts
  from ``tally`` (``_tally_source``); everything else (several words, phrases, NOT, rare
  words, fuzzy and wildcard words) takes the GIN path, which is cheap there. The moments shown
  are ranked on the GIN path either way, for the page's groups only.
- Writes (``_put``) keep it exact: a rewritten group's slices get new ids, so ``tally``'s
  entries of its old slices match no ``slice`` row and are no longer counted (the next
  rebuild drops them); its new slices' counts go to ``tally_more``. A lexeme that becomes
  frequent after the rebuild stays on the GIN path until the next ``oralhist reindex``.
- A simple prefix (``trai*``) whose vocabulary words are at most ``MAX_EXPANSIONS`` is its one
  prefix lexeme (``>trai``: exactly the records with one of its words), ranked by its words.
  Over the cap, the most frequent words are searched, as by the Whoosh engine, with its
  notice: the GIN path ORs them; the tally path counts its capped row (layout 4, below) or,
  when the words searched are no longer the row's, the prefix lexeme less the records that
  have only words left out (few: the rarest words), read through the GIN index.
- The page's moments: with many matches (``PAGE_SCAN_MATCHES``, or a tallied lexeme) the
  page's groups' records are read through ``hit``'s group index and each is checked (cost
  bound by the page, not the archive); else through the GIN index.
- A search takes every table's share lock first (``_read``), so a rebuild's swap never falls
  between its statements; search connections run without JIT (it compiled for 1.4 s).
- Costs (bench/results/search-1000-postgresql*.json): at 1,000 interviews ``hit`` grows from
  479 to 908 MB and its GIN index from 81 to 197 MB with the prefix lexemes, ``tally`` takes
  36 MB; a rebuild counts the tally in one pass over ``hit`` (72 s of server CPU).
- The tests (``tests/search/test_pg_tally.py``) run every query kind through the tally, the
  GIN and the word-OR paths and compare every result, before and after writes.

Phrases and capped prefixes (layout 4, issue 18: at 10,000 interviews ``hit`` no longer fits
in memory, and the costs that grew with the archive were the rows read to check a phrase's
positions and a capped prefix's correction):

- Word pairs. Every two folded words at consecutive written positions are one lexeme
  (``=picket line``), written without positions. A phrase is matched over the same folded
  words, stop words included (``"the general strike"`` keeps ``the``), so the pairs are of
  every word, not only of non-stop words. A two-word phrase is its pair lexeme: exact, no
  positions read, and tallied like a stem when it is frequent. A longer phrase is the AND of
  its pairs with its words' positions (``'=the general' & '=general strike' & ('the' <->
  'general' <-> 'strike')``): the GIN index's candidates are the records with every pair,
  not every word, and only they are checked. The pairs are taken from the positions written
  (capped at ``MAX_POSITION``, 255 per word, the words kept of a giant record), so a pair is
  in a record exactly when ``'a' <-> 'b'`` matches there; the pairs count in
  ``MAX_LEXEME_BYTES`` (a record whose pairs would not fit keeps fewer words). Their record
  counts are taken in SQL (one pass over ``hit``: there are millions of distinct pairs, too
  many for the rebuild's Python counter).
- Capped prefixes. For each tallied prefix with more words than ``MAX_EXPANSIONS`` (and
  fewer than ``EXPANSION_SCAN``), a rebuild adds a ``tally`` row ``>trai*`` counting the
  records with one of its ``MAX_EXPANSIONS`` most frequent words, which the row lists
  (``words``). A query of the prefix searches exactly those words while the vocabulary's
  counts keep them the most frequent; then its totals and facets come from that row (and its
  ``tally_more`` counts, kept by ``_put`` from the listed words). When writes change which
  words are the most frequent, the listed words differ from the searched ones and the query
  falls back to the prefix less the records of the words left out: the result is the same,
  only slower. Counting ``MAX_EXPANSIONS`` words per prefix from the tally rows of the words
  would not do: a record with two of them would count twice.
- Costs (``bench/results/search-1000-postgresql.json``, ``search-10000-postgresql.json``;
  layout 3's beside them as ``-layout3``): at 1,000 interviews the schema grows from 1,206 to
  1,802 MB (the pairs are 31 % of the lexeme bytes; ``hit``'s GIN index 197 -> 513 MB for
  their millions of distinct keys), the tally from 36 to 42 MB; a rebuild from 45 k to 37 k
  words/s (one more pass over ``hit`` for the pairs' counts, one for the capped prefixes). At
  10,000 (copied): 12.1 -> 15.8 GB. Searches at 10,000, CPU ms: "picket line" 384 -> 91,
  trai* 541 -> 170, "the general strike" 437 -> 305.
- What layout 4 left: a phrase of three words or more read each match's ``hit`` row (its
  slice, and its positions), one page per match: "the general strike" has 40 k matching
  records at 10,000 interviews, all of which have both its pairs (so checking positions was
  not the cost; reading them was, about 6 us a page from the operating system's cache).
- Prefix lengths stay 3 to 6: at 1,000 interviews their lexemes are 37 % of the lexeme bytes
  (3 letters 11 %, 4: 10 %, 5: 9 %, 6: 8 %), but ``hit``'s size does not drive the costs
  measured at 10,000: a tallied search reads ``hit`` only for the page's 20 groups, and a
  GIN-path search reads one page per match however narrow the rows (40 k matches, 39.7 k
  pages). Narrowing them would send ``tra*`` or ``trainee*`` to the slower word-OR path.

Word triples (layout 5, issue 18: "the general strike" was the p95 at 10,000 interviews):

- A rebuild tallies the word triples (``=the general strike``: three folded words at
  consecutive written positions, ``triple_lexeme``) in at least ``TALLY_THRESHOLD`` records,
  per slice like any tallied lexeme, but only in ``tally``: they are not written in
  ``hit.tsv``, so the GIN index does not grow (a triple lexeme per word of every record would
  add about as many distinct keys again as the pairs did). A three-word phrase names its
  triple (``Part.lexeme``): when the triple is tallied and the rest of the query is slice
  conditions, its totals, facets and group order are counted from the tally, and the page's
  groups find their moments through the pairs and positions, reading only those groups'
  records (as for any tallied lexeme); otherwise the phrase keeps the GIN path (pairs and
  positions). Phrases of four words or more keep it too (two triples ANDed would not count
  records exactly).
- Counted in SQL (``triple_count_sql``), from the positions written, only for the triples
  whose two pairs are frequent (a triple is in no more records than either of its pairs):
  one more pass over ``hit`` at a rebuild, 72 s of server CPU at 1,000 interviews (load 3,
  EXPLAIN ANALYZE; the tally pass took as long). A self-join of each record's (word,
  position) rows is exact where positions are shared (a giant record's, capped at
  ``MAX_POSITION``); a window (``lead``) over them was 10 % faster on a 5 % sample but not
  exact there. Counting every triple in Python as the rebuild reads the records would not
  do: there are tens of millions of distinct ones. The per-record work was mostly
  unnesting every lexeme (58 per record, 14 of them words): the pass unnests only the
  words (``ts_filter``), and a rebuild skips the records without two chained frequent pairs
  (``chained_pairs_sql``): at 200 interviews 9.9 -> 4.8 s of server CPU, the same rows.
  Where a rebuild's time goes at 200 interviews (98.6 s, load 1.6, before that change):
  the GIN index build 21 s (no faster with 1 GB of ``maintenance_work_mem``; PostgreSQL 15
  builds it in one process), the tally pass 6 s, the capped prefixes' 5 s, the pairs' 4 s,
  the triples' 10 s; the rest is the analysis in Python (about 30 s of CPU) with the COPY
  beside it.
- Writes (``_put``) count the written records' tallied triples in Python (``Triples``),
  from the positions written, exactly as that statement counts them (a test compares the
  two on capped positions, giant records, stop words and folded words), into
  ``tally_more``, so the tally stays exact; a triple frequent only after the rebuild stays
  on the GIN path until the next one. The statement, restricted to the written groups,
  read back every lexeme just written (76 ms median, 100 at most, of an interview's write
  of 1,213 records at 1,000 interviews, quiet). Such a write (``bench_search.py --phase
  writes``) is now about 300-380 ms instead of 415-540, most of it the analysis in Python
  and the COPY; every second one also flushes the GIN index's pending list (``fastupdate``,
  4 MB: an interview adds about 70 k entries), 500-650 ms more. With ``fastupdate`` off
  every write took about 880 ms, so it stays on.
- Costs and figures (``bench/results/search-1000-postgresql.json``,
  ``search-10000-postgresql.json``; layout 4's beside them as ``-layout4``): at 1,000
  interviews 75 triples are tallied (0.6 MB of the tally's 43 MB), at 10,000 (copied) 1,620
  (32 MB of 0.8 GB); ``hit`` and its GIN index are unchanged. A rebuild at 1,000 took 517 s
  instead of 400 (load 4.9, beside another count; the triples' pass is 72 s of server CPU);
  counting the 10,000 copy's triples from its rows took 801 s (load 3 to 5, its 15 GB read
  from disk). Searches at 10,000, CPU ms: "the general strike" 305 -> 91 (the same 6,775
  groups and 28,322 moments), p95 303 -> 161 (``trai*``, the p95 now; load 1.5); copied
  again from a layout-5 build (``pg_scale_copy.py --results``): 94, p95 164 (193 ms wall,
  load 4.4). At 1,000: p95 59 -> 57, the phrase 47 -> 37.

The access scope is applied in SQL on every query (``scope_sql``), with the same rules as
``restriction.acl_verdict``: totals, facets, snippets and suggestions never count what the
scope may not read.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import weakref
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import chain
from typing import Any

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from ..errors import QueryError
from .backend import IndexUnavailable, RebuildInProgress, RebuildStats, UnknownSearchBackend
from .common import (
    MAX_FACET_VALUES,
    check_filter_name,
    check_request,
    interview_group,
    requires_every_word,
    suggest_query,
)
from .highlight import Highlighter
from .pg_query import (
    PAIR_MARK,
    PREFIX_LENGTHS,
    PREFIX_MARK,
    STEM_MARK,
    Part,
    PgCompiler,
    lexeme,
    like_escape,
    pair_lexeme,
    triple_lexeme,
    within,
)
from .query import EXPANSION_SCAN, MAX_EXPANSIONS, parse, positive_words
from .restriction import CARD_DEFAULTS
from .results import DocumentHit, InterviewGroup, Moment, SearchResults
from .schema import (
    DOCUMENT_SNIPPET_SOURCE,
    KINDS,
    SEGMENT_SNIPPET_SOURCE,
    Language,
    _join,
    acl_token,
    card_of,
    fold,
    folded_words,
)
from .scope import SearchScope

REINDEX_HINT = "Run `oralhist reindex` to rebuild it from the database."
#: ``work_mem`` of the search connections: a common word's bitmap of matching records stays
#: exact (no lossy pages to recheck) and its grouping stays in memory; PostgreSQL's default
#: 4 MB is too small from about 1,000 interviews on.
SEARCH_WORK_MEM = "32MB"
#: Records a rebuild buffers before writing them (about 20 interviews' worth).
REBUILD_BATCH = 20_000
#: ``maintenance_work_mem`` of a rebuild's transaction (the bulk GIN build).
REBUILD_MEMORY = "256MB"
#: A rebuild tallies the lexemes (words, stems, prefixes) in at least this many records:
#: below it the GIN path reads few rows (see the module's docstring for the measurement).
TALLY_THRESHOLD = 2_000
#: From how many matching records a page's moments are found by reading its groups' records
#: (about 24 k for 20 interviews, 15 ms) rather than every match of the archive through the
#: GIN index: "picket line", 2,960 matches at 1,000 interviews, 23 ms; 29 k at 10,000.
PAGE_SCAN_MATCHES = 5_000
#: Whether a search's summary statement joins by hashing on the GIN path too (as it does on
#: the tally path): the matches' slices are looked up in one hash of ``slice`` rather than
#: one index lookup each.
SUMMARY_HASH_JOINS = True
#: Whether searches read ``tally`` (tests turn it off to compare with the GIN path).
USE_TALLY = True
#: The end of a capped prefix's ``tally`` lexeme (``>trai*``: the records with one of the
#: prefix's most frequent words, which its row lists).
CAPPED_MARK = "*"
#: Whether a prefix over the expansion cap is counted from its capped ``tally`` row (tests
#: turn it off to compare with the prefix's row less the records of the words left out).
USE_CAPPED = True
MAX_POSITION = 16_383
MAX_POSITIONS_PER_WORD = 255
#: Distinct lexemes' bytes kept per record (a tsvector holds at most 1 MB).
MAX_LEXEME_BYTES = 600_000
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Advisory lock keys (two int4s: the schema's oid-independent hash, and which lock).
_WRITE_LOCK = 1
_REBUILD_LOCK = 2


def check_config(config: Mapping[str, Any]) -> None:
    """At start-up: the database is PostgreSQL (this backend keeps its index there)."""
    url = str(config.get("SEARCH_DATABASE_URL") or config.get("SQLALCHEMY_DATABASE_URI") or "")
    if not url.startswith("postgresql"):
        raise UnknownSearchBackend(
            "SEARCH_BACKEND is 'postgresql' but the database is not PostgreSQL"
            f" ({url.split(':', 1)[0] or 'none'}): set SQLALCHEMY_DATABASE_URI to a"
            " postgresql+psycopg:// URL, or SEARCH_BACKEND = 'whoosh'."
        )
    schema_name(config)


def schema_name(config: Mapping[str, Any]) -> str:
    name = config.get("SEARCH_PG_SCHEMA") or "search"
    if not _SCHEMA_NAME.match(name):
        raise UnknownSearchBackend(
            f"SEARCH_PG_SCHEMA is {name!r}: use lower-case letters, digits and _ only."
        )
    return name


def describe_location(config: Mapping[str, Any]) -> str:
    """The schema and database (password hidden) the index tables are in."""
    url = config.get("SEARCH_DATABASE_URL") or config.get("SQLALCHEMY_DATABASE_URI") or ""
    safe = make_url(str(url)).render_as_string(hide_password=True)
    return f"the PostgreSQL schema {schema_name(config)!r} of {safe}"


def open_postgres(config: Mapping[str, Any]) -> PostgresSearch:
    """The backend for this configuration; it connects on first use (``check_config`` is
    the start-up check that the database is PostgreSQL)."""
    url = config.get("SEARCH_DATABASE_URL") or config.get("SQLALCHEMY_DATABASE_URI") or ""
    return PostgresSearch(
        str(url), schema=schema_name(config), language=config.get("SEARCH_LANGUAGE", "en")
    )


# ---------------------------------------------------------------- records


def tsvector_literal(words: list[str], language: Language) -> str:
    """The tsvector of a record's folded words: each word at its positions (1-based, capped
    as PostgreSQL caps them), each non-stop word's stem marked ``~``, and each word's prefixes
    of ``PREFIX_LENGTHS`` letters marked ``>``."""
    return record_lexemes(words, language)[0]


_Marks = tuple[tuple[tuple[str, str], ...], int, str]
_MARKS: dict[str | None, dict[str, _Marks]] = {}


def _marks_of(language: Language) -> dict[str, _Marks]:
    """The cache of ``_word_marks`` for ``language`` (emptied when it grows large)."""
    cache = _MARKS.setdefault(language.code, {})
    if len(cache) > 200_000:
        cache.clear()
    return cache


def _word_marks(word: str, language: Language) -> _Marks:
    """A word's marked lexemes (its stem, its prefixes), each with its quoted form, their
    bytes in a tsvector, and the word quoted."""
    form = language.body_form(word)
    low, high = PREFIX_LENGTHS
    extra = ([STEM_MARK + form] if form is not None else []) + [
        PREFIX_MARK + word[:k] for k in range(low, min(len(word), high) + 1)
    ]
    return tuple((m, lexeme(m)) for m in extra), sum(len(m) + 6 for m in extra), lexeme(word)


def _quoted_pair(pair: str) -> str:
    """``lexeme(pair)``, without its two replacements for the usual pair (folded words have
    neither quotes nor backslashes)."""
    if "'" in pair or "\\" in pair:
        return lexeme(pair)
    return f"'{pair}'"


def record_lexemes(words: list[str], language: Language) -> tuple[str, list[str], list[str]]:
    """``tsvector_literal``, the record's distinct lexemes (words, marked stems and prefixes,
    unquoted: what ``tally`` rows are counted by) and its pair lexemes. A word is kept with its stem
    and prefixes, or not at all, while the lexemes fit in ``MAX_LEXEME_BYTES``: so a stem or
    prefix lexeme is in a record exactly when one of its kept words is. A pair lexeme
    (``=a b``) is written for each two kept words at consecutive written positions: exactly
    when ``'a' <-> 'b'`` matches the written positions."""
    literal, lexemes, pairs, _written = _record_lexemes(words, language)
    return literal, lexemes, pairs


#: Where a record's words are written: ``None`` when each word is at its place in the
#: record's words (1-based), else each written position's words (positions capped at
#: ``MAX_POSITION``, 255 per word, or words of a giant record left out).
Written = dict[int, list[str]] | None


def _record_lexemes(
    words: list[str], language: Language
) -> tuple[str, list[str], list[str], Written]:
    """``record_lexemes`` and where the words are written (``Written``)."""
    budget = MAX_LEXEME_BYTES
    while True:
        literal, lexemes, pairs, written, size = _lexemes_within(words, language, budget)
        if size <= MAX_LEXEME_BYTES:
            return literal, lexemes, pairs, written
        # The pairs took it over: keep fewer words (a giant record only).
        budget = budget * MAX_LEXEME_BYTES // size * 9 // 10


def _lexemes_within(
    words: list[str], language: Language, budget: int
) -> tuple[str, list[str], list[str], Written, int]:
    """``record_lexemes`` keeping words while their lexemes (without the pairs) fit in
    ``budget`` bytes; also returns where the words are written and the bytes with the
    pairs."""
    positions: dict[str, list[int]] = {}
    clipped = len(words) > MAX_POSITION
    if not clipped:
        # (The usual record: no position reaches MAX_POSITION.)
        for i, w in enumerate(words, 1):
            found = positions.get(w)
            if found is None:
                positions[w] = [i]
            elif len(found) < MAX_POSITIONS_PER_WORD:
                found.append(i)
            else:
                clipped = True
    else:
        for i, w in enumerate(words, 1):
            found = positions.get(w)
            if found is None:
                positions[w] = [min(i, MAX_POSITION)]
            elif len(found) < MAX_POSITIONS_PER_WORD and found[-1] < MAX_POSITION:
                found.append(min(i, MAX_POSITION))
    marked: dict[str, str] = {}
    out = []
    kept = []
    size = 0
    marks = _marks_of(language)
    for w, at in positions.items():
        found = marks.get(w)
        if found is None:
            found = marks[w] = _word_marks(w, language)
        extra, cost, quoted = found
        # ``cost`` counts every mark of the word, even one already in: an upper bound.
        size += len(w) + 8 + cost
        if size > budget:
            clipped = True
            break
        marked.update(extra)
        kept.append(w)
        out.append(f"{quoted}:{','.join(map(str, at))}")
    written: Written = None
    if not clipped:
        pairs = {pair_lexeme(a, b) for a, b in itertools.pairwise(words)}
    else:
        # Positions were capped or words left out: the pairs of what was written.
        written = {}
        for w in kept:
            for p in positions[w]:
                written.setdefault(p, []).append(w)
        pairs = {
            pair_lexeme(a, b)
            for p, firsts in written.items()
            for a in firsts
            for b in written.get(p + 1, ())
        }
    size += sum(len(p) + 8 for p in pairs)
    out.extend(marked.values())
    out.extend(map(_quoted_pair, pairs))
    return " ".join(out), [*kept, *marked], list(pairs), written, size


@dataclass(frozen=True)
class Record:
    """One searchable record split as it is stored: the facts it shares with the other
    records of its ``slice`` (group, kind, access facts, speaker, year), what its ``record``
    row shows, and its ``hit`` row's tsvector."""

    slice_key: tuple
    shown: tuple
    tsv: str
    lexemes: list[str]
    pairs: list[str]
    #: The record's folded words, and where they are written (``Written``; ``Triples``).
    words: list[str]
    written: Written


def record_row(doc: dict, language: Language) -> tuple[Record, set[str]]:
    """The rows of one app index document (the dicts of ``services.indexing``), and its
    distinct folded words (for the vocabulary)."""
    kind = doc.get("kind")
    if kind not in KINDS:
        raise ValueError(f"unknown index document kind {kind!r}")
    if not doc.get("doc_id"):
        raise ValueError("index document without doc_id")
    acl = acl_token(doc).decode()
    published = doc.get("status") == "published"
    level = doc.get("access_level") or "closed"
    year = doc.get("year")
    speaker = speaker_key = ""
    segment_id = start = end = None
    title = ""
    if kind == "document":
        did = int(doc["document_id"])
        gkey, iid = -did, None
        title = doc.get("title") or ""
        words = _join(title, doc.get("creators"), doc.get("description"), doc.get("text"))
        body = _join(doc.get("description"), doc.get("text"))[:DOCUMENT_SNIPPET_SOURCE]
        published = True
    else:
        did = None
        iid = gkey = int(doc["interview_id"])
        if kind == "segment":
            words = doc.get("text") or ""
            body = words[:SEGMENT_SNIPPET_SOURCE]
            speaker = doc.get("speaker") or ""
            speaker_key = fold(speaker)
            segment_id = doc.get("segment_id")
            start, end = doc.get("start_ms"), doc.get("end_ms")
        elif kind == "index":
            shown = _join(doc.get("title"), doc.get("synopsis"), doc.get("keywords"))
            words = _join(shown, doc.get("text"))
            body = _join(
                doc.get("title"),
                doc.get("synopsis"),
                "; ".join(doc.get("keywords") or []),
                doc.get("text"),
            )
            start = doc.get("start_ms")
        else:
            words = _join(
                doc.get("title"),
                doc.get("accession"),
                doc.get("summary"),
                doc.get("people"),
                doc.get("narrators"),
                doc.get("place"),
                doc.get("terms"),
            )
            body = doc.get("summary") or ""
    folded = folded_words(words)
    slice_key = (
        gkey,
        kind,
        acl,
        published,
        level,
        int(doc.get("embargo_until") or 0),
        doc.get("owner_id"),
        iid,
        did,
        speaker,
        speaker_key,
        None if year is None else int(year),
    )
    shown = (gkey, kind, iid, did, segment_id, start, end, speaker, title, body.replace("\x00", ""))
    tsv, lexemes, pairs, written = _record_lexemes(folded, language)
    # The vocabulary counts the words written (a giant record's words left out are not: a
    # write's decrement subtracts what ``hit`` holds, so both count the same words).
    kept = set(folded) if written is None else {w for ws in written.values() for w in ws}
    return Record(slice_key, shown, tsv, lexemes, pairs, folded, written), kept


class Triples:
    """Which of some word triples (``=a b c``, as ``tally`` names them) a record has at
    three consecutive written positions: exactly what ``triple_count_sql`` counts for it
    (``'a' <-> 'b' <-> 'c'`` matching the written positions, each triple once), for the
    triples given whose two pairs are given too (that statement's condition). Writes count
    the tallied triples of the records they write with it (``_put``), in Python beside the
    pairs, rather than with the statement, which read back every lexeme just written (76 ms
    median of an interview's write of 1,213 records at 1,000 interviews, quiet)."""

    def __init__(self, triples: Iterable[str], pairs: Iterable[str]) -> None:
        pairs = set(pairs)
        self.thirds: dict[tuple[str, str], set[str]] = {}
        for triple in triples:
            a, b, c = triple[len(PAIR_MARK) :].split(" ")
            if pair_lexeme(a, b) in pairs and pair_lexeme(b, c) in pairs:
                self.thirds.setdefault((a, b), set()).add(c)
        #: The first pairs of the triples (a record with none of them has none of them).
        self.firsts = frozenset(pair_lexeme(a, b) for a, b in self.thirds)

    def __bool__(self) -> bool:
        return bool(self.thirds)

    def of(self, record: Record) -> set[str]:
        """The triples ``record`` has."""
        if self.firsts.isdisjoint(record.pairs):
            return set()
        thirds = self.thirds
        found = set()
        if record.written is None:
            words = record.words
            for i, (a, b) in enumerate(itertools.pairwise(words[:-1])):
                ends = thirds.get((a, b))
                if ends is not None and words[i + 2] in ends:
                    found.add(triple_lexeme(a, b, words[i + 2]))
            return found
        written = record.written
        for p, firsts in written.items():
            seconds = written.get(p + 1)
            thirds_at = written.get(p + 2)
            if not seconds or not thirds_at:
                continue
            for a in firsts:
                for b in seconds:
                    ends = thirds.get((a, b))
                    if ends is not None:
                        found.update(triple_lexeme(a, b, c) for c in ends.intersection(thirds_at))
        return found


def card_row(card: dict) -> tuple:
    narrators = [n for n in card.get("narrators") or [] if n]
    keys = [k for k in (fold(n) for n in narrators) if k]
    return (
        card["interview_id"],
        card.get("accession") or "",
        card.get("title") or "",
        str(card.get("collection") or "").lower(),
        card.get("collection_title") or "",
        narrators,
        keys,
        " " + " | ".join(keys) + " ",
        str(card.get("language") or "").lower(),
        None if card.get("year") is None else int(card["year"]),
        card.get("date_recorded") or "",
    )


def _ddl(schema: str, suffix: str = "") -> list[str]:
    s, x = schema, suffix
    return [
        f"""CREATE TABLE IF NOT EXISTS {s}.slice{x} (
            id bigint PRIMARY KEY,
            gkey bigint NOT NULL,
            kind text NOT NULL,
            acl text NOT NULL,
            published boolean NOT NULL,
            level text NOT NULL,
            embargo integer NOT NULL DEFAULT 0,
            owner_id integer,
            interview_id integer,
            document_id integer,
            speaker text NOT NULL DEFAULT '',
            speaker_key text NOT NULL DEFAULT '',
            year integer)""",
        # Narrow rows: the record's tsvector and the keys to its slice, nothing shown, so a
        # common word's matches are read from fewer pages (29 k against 42 k for "work" at
        # 1,000 interviews). A segment's tsvector stays in line: PostgreSQL moves values out
        # of line only from 2 kB rows, whatever toast_tuple_target says.
        f"""CREATE TABLE IF NOT EXISTS {s}.hit{x} (
            id bigint NOT NULL,
            gkey bigint NOT NULL,
            slice bigint NOT NULL,
            tsv tsvector NOT NULL)""",
        f"""CREATE TABLE IF NOT EXISTS {s}.record{x} (
            id bigint PRIMARY KEY,
            gkey bigint NOT NULL,
            kind text NOT NULL,
            interview_id integer,
            document_id integer,
            segment_id integer,
            start_ms bigint,
            end_ms bigint,
            speaker text NOT NULL DEFAULT '',
            title text NOT NULL DEFAULT '',
            body text NOT NULL DEFAULT '')""",
        f"""CREATE TABLE IF NOT EXISTS {s}.card{x} (
            interview_id integer PRIMARY KEY,
            accession text NOT NULL,
            title text NOT NULL,
            collection text NOT NULL,
            collection_title text NOT NULL,
            narrators text[] NOT NULL,
            narrator_keys text[] NOT NULL,
            narrator_text text NOT NULL,
            language text NOT NULL,
            year integer,
            date_recorded text NOT NULL)""",
        f"""CREATE TABLE IF NOT EXISTS {s}.word{x} (
            word text COLLATE "C" PRIMARY KEY,
            docs integer NOT NULL)""",
        # The frequent lexemes' matches counted per slice (see the module's docstring): one
        # row per lexeme, its slices and their counts in two arrays (in slice order), as the
        # last rebuild counted them; ``docs``: its records then.
        # ``words``: of a capped prefix (``>trai*``), the words whose records it counts.
        f"""CREATE TABLE IF NOT EXISTS {s}.tally{x} (
            lexeme text COLLATE "C" PRIMARY KEY,
            docs integer NOT NULL,
            slices bigint[] NOT NULL,
            ns integer[] NOT NULL,
            words text[])""",
        # The tallied lexemes' counts in the slices written since (``_put``).
        f"""CREATE TABLE IF NOT EXISTS {s}.tally_more{x} (
            lexeme text COLLATE "C" NOT NULL,
            slice bigint NOT NULL,
            n integer NOT NULL,
            PRIMARY KEY (lexeme, slice))""",
    ]


#: The tables of the layout, and its version (``meta``): tables written by an older
#: version are dropped by ``create`` and must be rebuilt (``oralhist reindex``).
TABLES = ("slice", "hit", "record", "card", "word", "tally", "tally_more")
#: The tables with a primary key (renamed with them by a rebuild).
_KEYED = ("slice", "record", "card", "word", "tally", "tally_more")
LAYOUT = "5"
#: Secondary indexes (name, table, definition), built after a rebuild's bulk load.
_INDEXES = (
    ("hit_tsv", "hit", "USING gin (tsv)"),
    ("hit_gkey", "hit", "(gkey)"),
    # A query whose slice conditions are selective (a speaker) reads only those slices' hits.
    ("hit_slice", "hit", "(slice)"),
    ("slice_gkey", "slice", "(gkey)"),
    ("record_gkey", "record", "(gkey)"),
    ("tally_more_slice", "tally_more", "(slice)"),
)


def tallied_lexeme(lexeme: str, docs: int, stopwords: frozenset[str]) -> bool:
    """A rebuild tallies ``lexeme`` (in ``docs`` records): a marked stem, prefix or pair, or
    a stop word (its own lexeme, as the query of a stop word alone is), in at least
    ``TALLY_THRESHOLD`` records. Other words are searched by their stems (a quoted single
    word is rare), so tallying them would double the table for little."""
    if docs < TALLY_THRESHOLD:
        return False
    return lexeme[:1] in (STEM_MARK, PREFIX_MARK, PAIR_MARK) or lexeme in stopwords


def capped_prefixes(
    prefixes: Iterable[str], vocabulary: Iterable[tuple[str, int]]
) -> dict[str, list[str]]:
    """For each prefix lexeme of ``prefixes`` (``>trai``) with more vocabulary words than
    ``MAX_EXPANSIONS`` (and fewer than ``EXPANSION_SCAN``, so that a query lists them all):
    its capped lexeme (``>trai*``) and the words a query of it searches (the
    ``MAX_EXPANSIONS`` most frequent, as ``PgCompiler._expanded`` ranks them), in code point
    order. ``vocabulary``: (word, records) as in ``word``."""
    entries = sorted((w, n) for w, n in vocabulary if n > 0)
    keys = [w for w, _ in entries]
    out: dict[str, list[str]] = {}
    for mark in prefixes:
        start = mark[len(PREFIX_MARK) :]
        found = []
        for i in range(bisect_left(keys, start), len(keys)):
            if not keys[i].startswith(start) or len(found) == EXPANSION_SCAN:
                break
            found.append(entries[i])
        if MAX_EXPANSIONS < len(found) < EXPANSION_SCAN:
            top = sorted(found, key=lambda t: (-t[1], t[0]))[:MAX_EXPANSIONS]
            out[mark + CAPPED_MARK] = sorted(w for w, _ in top)
    return out


def capped_count_sql(schema: str, suffix: str, words: str) -> str:
    """Rows ``(lexeme, slice, n)``: how many records of each slice have one of the words of
    each capped lexeme of the table ``words (word, lexeme)``, counted from ``hit``."""
    s, x = schema, suffix
    return f"""SELECT d.lexeme, d.slice, count(*)::int AS n FROM (
            SELECT DISTINCT c.lexeme COLLATE "C" AS lexeme, h.slice, h.id
            FROM {s}.hit{x} h CROSS JOIN LATERAL unnest(tsvector_to_array(h.tsv)) u(lexeme)
            JOIN {words} c ON c.word = u.lexeme COLLATE "C") d
        GROUP BY 1, 2"""


def tally_sql(schema: str, suffix: str = "") -> str:
    """The statement that fills ``tally`` (empty) for the lexemes of the temporary table
    ``tally_words (lexeme, docs)``, counting every record of ``hit`` (each tsvector read
    once)."""
    s, x = schema, suffix
    return f"""INSERT INTO {s}.tally{x} (lexeme, docs, slices, ns)
        SELECT c.lexeme, min(w.docs), array_agg(c.slice ORDER BY c.slice),
            array_agg(c.n ORDER BY c.slice)
        FROM ({tally_count_sql(s, x, "tally_words")}) c
        JOIN tally_words w ON w.lexeme = c.lexeme
        GROUP BY c.lexeme"""


def frequent_pairs_sql(schema: str, suffix: str, words: str) -> str:
    """The statement that adds to the table ``words (lexeme, docs)`` the pair lexemes in at
    least ``:n`` records of ``hit`` (one pass over it)."""
    s, x = schema, suffix
    return f"""INSERT INTO {words} SELECT u.lexeme, count(*)
        FROM {s}.hit{x} h CROSS JOIN LATERAL unnest(tsvector_to_array(h.tsv)) u(lexeme)
        WHERE left(u.lexeme, 1) = '{PAIR_MARK}' GROUP BY 1 HAVING count(*) >= :n"""


def triple_count_sql(schema: str, suffix: str, pairs: str, where: str = "TRUE") -> str:
    """Rows ``(lexeme, slice, n)``: for each word triple (``=a b c``, ``triple_lexeme``) whose
    two pairs are lexemes of ``pairs`` (a table or sub-select with a ``lexeme`` column), how
    many records of each slice have its words at three consecutive written positions (as
    ``'a' <-> 'b' <-> 'c'`` matches there), counted from the positions of the ``hit`` rows
    meeting ``where``. A triple is in no more records than either of its pairs, so only
    the frequent pairs' triples can be frequent: the filter keeps the counting small.
    Only the words are unnested (``ts_filter`` keeps the lexemes with positions, the words;
    a record's stems, prefixes and pairs have none): 6.0 s instead of 10.0 at 200
    interviews, the same rows."""
    s, x = schema, suffix
    return f"""SELECT t.lexeme COLLATE "C" AS lexeme, h.slice, count(*)::int AS n
        FROM {s}.hit{x} h CROSS JOIN LATERAL (
            WITH w AS (
                SELECT u.lexeme, p FROM unnest(ts_filter(h.tsv, '{{d}}')) u,
                    unnest(u.positions) p)
            SELECT DISTINCT '{PAIR_MARK}' || a.lexeme || ' ' || b.lexeme || ' ' || c.lexeme
                AS lexeme
            FROM w a JOIN w b ON b.p = a.p + 1 JOIN w c ON c.p = b.p + 1
            WHERE ('{PAIR_MARK}' || a.lexeme || ' ' || b.lexeme) COLLATE "C"
                    IN (SELECT lexeme FROM {pairs})
                AND ('{PAIR_MARK}' || b.lexeme || ' ' || c.lexeme) COLLATE "C"
                    IN (SELECT lexeme FROM {pairs})) t
        WHERE {where}
        GROUP BY 1, 2"""


def _quoted_pairs(pairs: str, where: str) -> str:
    """A sub-select: the tsquery that is the OR of the pair lexemes of ``pairs`` (``p``)
    meeting ``where`` (NULL when none do), each quoted as ``lexeme()`` quotes it."""
    quoted = r"'''' || replace(replace(p.lexeme, '\', '\\'), '''', '''''') || ''''"
    return f"""(SELECT CAST(string_agg({quoted}, ' | ') AS tsquery) FROM {pairs} p
        WHERE left(p.lexeme, 1) = '{PAIR_MARK}' AND {where})"""


def chained_pairs_sql(pairs: str) -> str:
    """A condition on ``hit h``: the record has a pair lexeme of ``pairs`` that is the first
    pair of a word triple whose second pair is in ``pairs`` too, and one that is the second
    of such a triple. A record has a triple at consecutive written positions only if it has
    both its pairs (they are written from the same positions), so ``triple_count_sql``
    finds nothing in the other records: the condition lets its per-record work skip them
    (a third of the records at 200 interviews, 4.7 s instead of 6.0, the same rows)."""
    # '=a b' is a first pair when some '=b c' is in ``pairs``, a second one when some '=z a'.
    firsts = _quoted_pairs(
        pairs,
        f"EXISTS (SELECT FROM {pairs} q WHERE left(q.lexeme, 1) = '{PAIR_MARK}'"
        " AND split_part(substr(q.lexeme, 2), ' ', 1) = split_part(p.lexeme, ' ', 2))",
    )
    seconds = _quoted_pairs(
        pairs,
        f"EXISTS (SELECT FROM {pairs} q WHERE left(q.lexeme, 1) = '{PAIR_MARK}'"
        " AND split_part(q.lexeme, ' ', 2) = split_part(substr(p.lexeme, 2), ' ', 1))",
    )
    return f"h.tsv @@ {firsts} AND h.tsv @@ {seconds}"


def triple_tally_sql(schema: str, suffix: str = "") -> str:
    """The statement that adds to ``tally`` the word triples of the frequent pairs of the
    temporary table ``tally_words`` that are in at least ``:n`` records of ``hit`` (one pass
    over it)."""
    s, x = schema, suffix
    counted = triple_count_sql(s, x, "tally_words", chained_pairs_sql("tally_words"))
    return f"""INSERT INTO {s}.tally{x} (lexeme, docs, slices, ns)
        SELECT c.lexeme, sum(c.n), array_agg(c.slice ORDER BY c.slice),
            array_agg(c.n ORDER BY c.slice)
        FROM ({counted}) c
        GROUP BY c.lexeme HAVING sum(c.n) >= :n"""


def is_triple(lexeme: str) -> bool:
    """``lexeme`` is a word triple (``=the general strike``: a ``tally`` lexeme only)."""
    return lexeme[:1] == PAIR_MARK and lexeme.count(" ") == 2


def capped_tally_sql(schema: str, suffix: str, words: str) -> str:
    """The statement that adds to ``tally`` the rows of the capped prefixes of the table
    ``words (word, lexeme)`` (``capped_prefixes``), counting every record of ``hit``."""
    s, x = schema, suffix
    return f"""INSERT INTO {s}.tally{x} (lexeme, docs, slices, ns, words)
        SELECT c.lexeme, sum(c.n), array_agg(c.slice ORDER BY c.slice),
            array_agg(c.n ORDER BY c.slice),
            (SELECT array_agg(w.word ORDER BY w.word) FROM {words} w WHERE w.lexeme = c.lexeme)
        FROM ({capped_count_sql(s, x, words)}) c GROUP BY c.lexeme"""


def tally_count_sql(schema: str, suffix: str, words: str) -> str:
    """Rows ``(lexeme, slice, n)``: how many records of each slice have each lexeme of the
    table ``words``, counted from ``hit``."""
    s, x = schema, suffix
    return f"""SELECT u.lexeme COLLATE "C" AS lexeme, h.slice, count(*)::int AS n
        FROM {s}.hit{x} h CROSS JOIN LATERAL unnest(tsvector_to_array(h.tsv)) u(lexeme)
        JOIN {words} t ON t.lexeme = u.lexeme COLLATE "C"
        GROUP BY 1, 2"""


def _indexes(schema: str, suffix: str = "") -> list[str]:
    return [
        f"CREATE INDEX IF NOT EXISTS {name}{suffix} ON {schema}.{table}{suffix} {how}"
        for name, table, how in _INDEXES
    ]


#: What every query reads: a record's match (``h.tsv``) and its slice's facts (``r``).
def _matching(schema: str) -> str:
    return f"{schema}.hit h JOIN {schema}.slice r ON r.id = h.slice"


# ---------------------------------------------------------------- scope


def scope_sql(scope: SearchScope, param: Callable[[object], str]) -> str:
    """The SQL condition (over ``slice r``) of what ``scope`` may read: the rules of
    ``restriction.acl_verdict`` and ``SearchScope``'s docstring."""
    # Records written for one audience (issue 16: redactions, anonymised names) end their
    # access token in "|p" (everyone but archivists) or "|a" (archivists: the whole record).
    if scope.everything:
        return "(r.acl NOT LIKE '%|p')"
    granted = param(sorted(scope.granted_interview_ids))
    owner = param(scope.owner_user_id)
    return (
        "(r.acl NOT LIKE '%|a') AND "
        f"((r.kind = 'document' AND r.level = ANY({param(sorted(scope.document_levels))}))"
        f" OR (r.kind = 'interview' AND (r.published OR r.owner_id = {owner}"
        f" OR r.interview_id = ANY({granted})))"
        f" OR (r.kind IN ('segment', 'index') AND (r.interview_id = ANY({granted})"
        f" OR (r.published AND r.embargo <= {param(scope.today)}"
        f" AND (r.level = ANY({param(sorted(scope.levels))}) OR (r.level = 'restricted'"
        f" AND r.interview_id = ANY({param(sorted(scope.access_grant_ids))})))))))"
    )


#: The facets, in the order results show them.
FACETS = ("collection", "narrator", "speaker", "decade", "language", "kind")


def _top(tag: str, column: str, source: str, condition: str, n: str = "count(*)") -> str:
    """The ``MAX_FACET_VALUES`` most frequent values of ``column`` (``n``: how a row counts),
    ties by name in code point order (as Python sorts, whatever the database's collation)."""
    return (
        f"(SELECT '{tag}', {column}, {n}, 0, 0.0 FROM {source} WHERE {condition}"
        f' GROUP BY 2 ORDER BY 3 DESC, {column} COLLATE "C" LIMIT {MAX_FACET_VALUES})'
    )


def _tally_source(schema: str, part: Part, param: Callable[[object], str]) -> str:
    """The rows ``(slice, n)`` that count ``part``'s matches per slice: its lexeme's
    ``tally`` and ``tally_more`` rows, and -1 for each record of its ``excess`` (read through
    the GIN index: the rare words a prefix over the cap leaves out, so few records). Entries
    of slices written over since the rebuild are left out by the join with ``slice`` (a
    rewritten group's slices get new ids)."""
    lex = param(part.lexeme)
    counts = (
        f"SELECT u.slice, u.n FROM {schema}.tally t CROSS JOIN LATERAL unnest(t.slices, t.ns)"
        f" u(slice, n) WHERE t.lexeme = {lex}"
        f" UNION ALL SELECT slice, n FROM {schema}.tally_more WHERE lexeme = {lex}"
    )
    if part.excess is not None:
        more, kept = part.excess
        counts += (
            f" UNION ALL SELECT x.slice, -1 FROM {schema}.hit x"
            f" WHERE x.tsv @@ CAST({param(more)} AS tsquery)"
            f" AND NOT x.tsv @@ CAST({param(kept)} AS tsquery)"
        )
    return counts


def _summary_sql(schema: str, where: str, sort: str, tally: str | None = None) -> str:
    """The statement behind one result page, over the records matching ``where``: rows
    ``(tag, value, n, m, score)``: ``total`` (n: groups), ``kind`` (n: records of that kind),
    the top values of each facet (n: groups, or moments for ``speaker``), and ``page`` rows in
    the page's order (value: the group key, n: its moments, m: 1 if its catalogue record
    matched, score).

    A group's score is the number of its matching moments (a catalogue match counts one): the
    match count, not ``ts_rank``, so that no matching record's ``tsv`` is read (``ts_rank``
    over every match was most of the time: issue 18). The shown moments are still ranked by
    ``ts_rank`` among their group's matches (``_page``).

    ``tally``: a ``_tally_source``: ``where`` is over its rows ``h`` (a lexeme's per-slice
    counts) instead of ``hit h``: the same rows ``m``, read from one index."""
    if tally is None:
        source, count, having = _matching(schema), "count(*)", ""
    else:
        # One join with ``slice``: ``h`` names the same rows, for the conditions on h.gkey.
        source = (
            f"(SELECT s.*, c.n FROM ({tally}) c JOIN {schema}.slice s ON s.id = c.slice) r"
            " CROSS JOIN LATERAL (SELECT r.gkey, r.n) h"
        )
        count, having = "sum(h.n)", " HAVING sum(h.n) > 0"
    score = "(g.moments + CASE WHEN g.catalogue THEN 1 ELSE 0 END)::float8"
    speakers = "m.kind = 'segment' AND m.speaker <> ''"
    if sort == "date":
        order = "gc.date = '', gc.date COLLATE \"C\", gc.score DESC, gc.gkey"
    else:
        order = "gc.score DESC, gc.moments DESC, gc.gkey"
    return f"""WITH m AS MATERIALIZED (
            SELECT r.id, r.gkey, r.kind, r.speaker, r.year, {count} AS n
            FROM {source} WHERE {where} GROUP BY r.id, r.gkey, r.kind, r.speaker, r.year{having}
        ), g AS (
            SELECT m.gkey, coalesce(sum(m.n) FILTER (WHERE m.kind <> 'interview'), 0)::bigint
                AS moments,
                bool_or(m.kind = 'interview') AS catalogue, max(m.year) AS doc_year
            FROM m GROUP BY m.gkey
        ), gc AS MATERIALIZED (
            SELECT g.gkey, g.moments, g.catalogue, {score} AS score,
                c.collection, c.narrators, c.language,
                CASE WHEN g.gkey < 0 THEN g.doc_year ELSE c.year END AS year,
                CASE WHEN g.gkey < 0 THEN coalesce(to_char(g.doc_year, 'FM0000'), '')
                    ELSE coalesce(c.date_recorded, '') END AS date
            FROM g LEFT JOIN {schema}.card c ON c.interview_id = g.gkey
        )
        SELECT 'total', NULL, count(*), 0, 0.0 FROM gc
        UNION ALL (SELECT 'kind', m.kind, sum(m.n)::bigint, 0, 0.0 FROM m GROUP BY m.kind)
        UNION ALL {_top("speaker", "m.speaker", "m", speakers, "sum(m.n)::bigint")}
        UNION ALL {_top("collection", "gc.collection", "gc", "gc.collection <> ''")}
        UNION ALL {_top("narrator", "n.name", "gc, unnest(gc.narrators) n(name)", "n.name <> ''")}
        UNION ALL {_top("language", "gc.language", "gc", "gc.language <> ''")}
        UNION ALL (SELECT 'decade', (floor(gc.year / 10.0) * 10)::int::text, count(*), 0, 0.0
            FROM gc WHERE gc.year IS NOT NULL GROUP BY 2)
        UNION ALL (SELECT 'page', gc.gkey::text, gc.moments, gc.catalogue::int, gc.score
            FROM gc ORDER BY {order} LIMIT :limit OFFSET :offset)"""


# ---------------------------------------------------------------- the backend


class _Rows:
    """The ``slice``, ``hit`` and ``record`` rows of records being written, numbered by
    ``next_id``; ``copy`` writes them (COPY) and empties the buffers."""

    def __init__(self, next_id: Callable[[], int]) -> None:
        self.next_id = next_id
        self.slice_ids: dict[tuple, int] = {}
        self.slices: list[tuple] = []
        self.hits: list[tuple] = []
        self.shown: list[tuple] = []

    def add(self, record: Record) -> int:
        """Buffer ``record``'s rows; returns its slice's id."""
        sid = self.slice_ids.get(record.slice_key)
        if sid is None:
            sid = self.slice_ids[record.slice_key] = self.next_id()
            self.slices.append((sid, *record.slice_key))
        rid = self.next_id()
        self.hits.append((rid, record.slice_key[0], sid, record.tsv))
        self.shown.append((rid, *record.shown))
        return sid

    def __len__(self) -> int:
        return len(self.hits)

    def copy(self, conn: Connection, schema: str, suffix: str) -> None:
        cursor = conn.connection.driver_connection.cursor()
        for table, rows in (("slice", self.slices), ("hit", self.hits), ("record", self.shown)):
            if rows:
                with cursor.copy(f"COPY {schema}.{table}{suffix} FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        self.slice_ids.clear()
        self.slices, self.hits, self.shown = [], [], []


class PostgresSearch:
    """A ``SearchBackend`` whose index is tables in a PostgreSQL schema."""

    def __init__(self, url: str, *, schema: str = "search", language: str | None = "en") -> None:
        self.url = url
        self.schema = schema
        self._language = Language(language)
        self._highlighter = Highlighter(self._language)
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self._lock_key = sum(schema.encode()) * 7919 % 2_000_000_000

    # -------------------------------------------------------- lifecycle

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = create_engine(
                    self.url,
                    pool_pre_ping=True,
                    # No JIT: compiling takes longer (hundreds of ms) than a search runs.
                    connect_args={"options": f"-c work_mem={SEARCH_WORK_MEM} -c jit=off"},
                )
                # A backend dropped without ``close()`` (an app let go of) closes its pooled
                # connections rather than leaving them to the garbage collector.
                weakref.finalize(self, self._engine.dispose)
            return self._engine

    @contextmanager
    def _read(self):
        """A connection whose transaction reads one set of tables: it takes every table's
        share lock first, so a rebuild's swap (which locks them all) comes before or after
        it, never between its statements (the tally and the summary of one search)."""
        try:
            with self.engine.connect() as conn:
                tables = ", ".join(f"{self.schema}.{name}" for name in TABLES)
                conn.execute(text(f"LOCK TABLE {tables} IN ACCESS SHARE MODE"))
                yield conn
                conn.rollback()
        except (OperationalError, ProgrammingError) as exc:
            if not self.exists():
                raise IndexUnavailable(
                    f"The search tables in schema {self.schema!r} are missing. {REINDEX_HINT}"
                ) from None
            raise IndexUnavailable(f"The search database cannot be read: {exc.orig}") from exc

    def _table(self, name: str) -> str:
        return f"{self.schema}.{name}"

    def exists(self) -> bool:
        """The tables are there, written by this version's layout."""
        try:
            with self.engine.connect() as conn:
                found = conn.scalar(
                    text(
                        "SELECT count(*) FROM information_schema.tables"
                        " WHERE table_schema = :s AND table_name = ANY(:t)"
                    ),
                    {"s": self.schema, "t": [*TABLES, "meta"]},
                )
                if found != len(TABLES) + 1:
                    return False
                layout = conn.scalar(
                    text(f"SELECT value FROM {self.schema}.meta WHERE key = 'layout'")
                )
        except (OperationalError, ProgrammingError):
            return False
        return layout == LAYOUT

    def create(self) -> None:
        """Create the schema and empty tables if missing; tables of an older layout are
        dropped (they are derived data: ``oralhist reindex`` fills the new ones)."""
        s = self.schema
        with self.engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k, :w)"), self._lock_args())
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {s}"))
            conn.execute(
                text(f"CREATE TABLE IF NOT EXISTS {s}.meta (key text PRIMARY KEY, value text)")
            )
            layout = conn.scalar(text(f"SELECT value FROM {s}.meta WHERE key = 'layout'"))
            if layout != LAYOUT:
                for name in TABLES:
                    conn.execute(text(f"DROP TABLE IF EXISTS {s}.{name} CASCADE"))
            conn.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {s}.ids"))
            for statement in _ddl(s) + _indexes(s):
                conn.execute(text(statement))
            conn.execute(
                text(
                    f"INSERT INTO {s}.meta VALUES ('language', :v), ('layout', :layout)"
                    " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
                    f" WHERE {s}.meta.key = 'layout'"
                ),
                {"v": self._language.code or "", "layout": LAYOUT},
            )

    def check(self) -> None:
        if not self.exists():
            raise IndexUnavailable(
                f"The search tables in PostgreSQL schema {self.schema!r} are missing."
                f" {REINDEX_HINT}"
            )
        with self._read() as conn:
            stored = conn.scalar(
                text(f"SELECT value FROM {self.schema}.meta WHERE key = 'language'")
            )
        if stored is not None and stored != (self._language.code or ""):
            raise IndexUnavailable(
                f"The search tables were written for language {stored or 'none'!r}, but"
                f" SEARCH_LANGUAGE is {self._language.code!r}. {REINDEX_HINT}"
            )

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def doc_count(self) -> int:
        with self._read() as conn:
            return conn.scalar(text(f"SELECT count(*) FROM {self._table('hit')}")) or 0

    def drop(self) -> None:
        """Remove the schema and everything in it (switching back to another backend)."""
        with self.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))

    # -------------------------------------------------------- writing

    def _lock_args(self, which: int = _WRITE_LOCK) -> dict:
        return {"k": self._lock_key, "w": which}

    def _put(
        self,
        conn: Connection,
        interviews: Mapping[int, list[dict] | None],
        documents: Mapping[int, dict | None],
    ) -> None:
        """Replace these interviews' and documents' rows, keeping the vocabulary's counts."""
        keys = [int(i) for i in interviews] + [-int(d) for d in documents]
        if not keys:
            return
        for iid, docs in interviews.items():
            for doc in docs or ():
                if doc.get("kind") == "document" or int(doc["interview_id"]) != int(iid):
                    raise ValueError(f"{doc.get('doc_id')!r} is not a document of {iid}")
        for did, doc in documents.items():
            if doc is not None and (
                doc.get("kind") != "document" or int(doc["document_id"]) != int(did)
            ):
                raise ValueError(f"{doc.get('doc_id')!r} is not document {did}")
        s = self.schema
        # The replaced records' words: their lexemes with positions (``ts_filter``; the
        # stems, prefixes and pairs have none), so the others are not unnested.
        conn.execute(
            text(
                f"""UPDATE {s}.word w SET docs = w.docs - o.n FROM (
                    SELECT u.lexeme, count(*) AS n
                    FROM {s}.hit h, unnest(tsvector_to_array(ts_filter(h.tsv, '{{d}}'))) u(lexeme)
                    WHERE h.gkey = ANY(:keys)
                    GROUP BY u.lexeme) o WHERE w.word = o.lexeme"""
            ),
            {"keys": keys},
        )
        # The tally stays exact for the lexemes tallied at the last rebuild: the replaced
        # groups' rows go, the new records' are counted (a lexeme that becomes frequent only
        # later stays on the GIN path until the next rebuild).
        tallied: set[str] = set()
        # A capped prefix's words, each with the capped lexemes that count its records.
        capped: dict[str, list[str]] = {}
        triple_lexemes = []
        for lex, words in conn.execute(text(f"SELECT lexeme, words FROM {s}.tally")):
            if is_triple(lex):
                triple_lexemes.append(lex)
            elif words is None:
                tallied.add(lex)
            else:
                for word in words:
                    capped.setdefault(word, []).append(lex)
        # The tallied triples, counted as a rebuild counts them (``triple_count_sql``).
        triples = Triples(triple_lexemes, tallied)
        if tallied or capped or triple_lexemes:
            # (``tally``'s entries of the replaced slices stay: their ids are gone from
            # ``slice``, so no query counts them, and the next rebuild drops them.)
            conn.execute(
                text(
                    f"DELETE FROM {s}.tally_more WHERE slice = ANY(ARRAY("
                    f"SELECT id FROM {s}.slice WHERE gkey = ANY(:keys)))"
                ),
                {"keys": keys},
            )
        for name in ("hit", "record", "slice"):
            conn.execute(text(f"DELETE FROM {s}.{name} WHERE gkey = ANY(:keys)"), {"keys": keys})
        conn.execute(
            text(f"DELETE FROM {s}.card WHERE interview_id = ANY(:ids)"),
            {"ids": [int(i) for i in interviews]},
        )
        records: list[Record] = []
        cards: list[tuple] = []
        vocabulary: Counter = Counter()
        for docs in interviews.values():
            if docs:
                cards.append(card_row(card_of(docs[0])))
            for doc in docs or ():
                record, words = record_row(doc, self._language)
                records.append(record)
                vocabulary.update(words)
        for doc in documents.values():
            if doc is not None:
                record, words = record_row(doc, self._language)
                records.append(record)
                vocabulary.update(words)
        if records:
            # Ids for at most one slice per record and one per record, taken under the write
            # lock (so no other writer takes from the same block).
            first = conn.scalar(
                text(f"SELECT setval('{s}.ids', nextval('{s}.ids') + :n - 1) - :n + 1"),
                {"n": 2 * len(records)},
            )
            rows = _Rows(itertools.count(first).__next__)
            counts: Counter = Counter()
            for record in records:
                sid = rows.add(record)
                for lex in tallied.intersection(record.lexemes):
                    counts[lex, sid] += 1
                for lex in tallied.intersection(record.pairs):
                    counts[lex, sid] += 1
                if capped:
                    found = {lex for w in record.lexemes for lex in capped.get(w, ())}
                    for lex in found:
                        counts[lex, sid] += 1
                if triples:
                    for lex in triples.of(record):
                        counts[lex, sid] += 1
            rows.copy(conn, s, "")
            self._copy(conn, "tally_more", None, [(*k, n) for k, n in counts.items()])
        self._copy(conn, "card", None, cards)
        if vocabulary:
            # One statement of two arrays, not a row each (67 ms for an interview's 3 k words).
            words = sorted(vocabulary)
            conn.execute(
                text(
                    f"INSERT INTO {s}.word AS w (word, docs)"
                    " SELECT * FROM unnest(CAST(:words AS text[]), CAST(:docs AS integer[]))"
                    " ON CONFLICT (word) DO UPDATE SET docs = w.docs + EXCLUDED.docs"
                ),
                {"words": words, "docs": [vocabulary[w] for w in words]},
            )

    def _copy(self, conn: Connection, table: str, columns: str | None, rows: list[tuple]):
        if not rows:
            return
        cursor = conn.connection.driver_connection.cursor()
        target = f"{self.schema}.{table}" + (f" ({columns})" if columns else "")
        with cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def apply(
        self, interviews: Mapping[int, list[dict] | None], documents: Mapping[int, dict | None]
    ) -> None:
        if interviews or documents:
            self.apply_read_under_lock(lambda: (interviews, documents))

    def apply_read_under_lock(
        self,
        read: Callable[[], tuple[Mapping[int, list[dict] | None], Mapping[int, dict | None]]],
    ) -> int:
        """Take the write lock (an advisory lock held by this transaction), then call
        ``read()`` and write what it returns in the same transaction: the last state written
        is always the newest, as with the Whoosh engine's lock."""
        if not self.exists():
            raise IndexUnavailable(
                f"The search tables in schema {self.schema!r} are missing. {REINDEX_HINT}"
            )
        with self.engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k, :w)"), self._lock_args())
            interviews, documents = read()
            self._put(conn, interviews, documents)
            return len(interviews) + len(documents)

    def replace_interview(self, interview_id: int, docs: list[dict]) -> None:
        self.apply({int(interview_id): docs or None}, {})

    def delete_interview(self, interview_id: int) -> None:
        self.apply({int(interview_id): None}, {})

    def replace_document(self, document_id: int, doc: dict | None) -> None:
        self.apply({}, {int(document_id): doc})

    def rebuild_running(self) -> bool:
        with self.engine.connect() as conn:
            got = conn.scalar(
                text("SELECT pg_try_advisory_lock(:k, :w)"), self._lock_args(_REBUILD_LOCK)
            )
            if got:
                conn.execute(
                    text("SELECT pg_advisory_unlock(:k, :w)"), self._lock_args(_REBUILD_LOCK)
                )
            conn.rollback()
        return not got

    def rebuild(
        self,
        interview_docs: Iterable[list[dict]],
        document_docs: Iterable[dict],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> RebuildStats:
        """Fill fresh tables, index them, and swap them in by renaming in one short
        transaction; the live tables answer queries until then."""
        started = time.perf_counter()
        self.create()
        s = self.schema
        with self.engine.connect() as lock_conn:
            got = lock_conn.scalar(
                text("SELECT pg_try_advisory_lock(:k, :w)"), self._lock_args(_REBUILD_LOCK)
            )
            lock_conn.commit()
            if not got:
                raise RebuildInProgress(
                    "Another rebuild of the search index is running; wait for it to finish."
                )
            try:
                with self.engine.begin() as conn:
                    # The write lock first: reads of the database start after it (see
                    # ``services.indexing.rebuild``), so no newer state is lost.
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k, :w)"), self._lock_args())
                    # The GIN index is built once, in bulk: with the default 64 MB it spills
                    # to disk many times over at 1,000 interviews.
                    conn.execute(text(f"SET LOCAL maintenance_work_mem = '{REBUILD_MEMORY}'"))
                    # The tally's groupings (``tally_sql``) stay in memory.
                    conn.execute(text(f"SET LOCAL work_mem = '{REBUILD_MEMORY}'"))
                    for name in TABLES:
                        conn.execute(text(f"DROP TABLE IF EXISTS {s}.{name}_new"))
                    for statement in _ddl(s, "_new"):
                        conn.execute(text(statement))
                    stats, last_id = self._fill(conn, interview_docs, document_docs, progress)
                    for statement in _indexes(s, "_new"):
                        conn.execute(text(statement))
                    for name in TABLES:
                        conn.execute(text(f"ANALYZE {s}.{name}_new"))
                    tables = ", ".join(f"{s}.{name}" for name in TABLES)
                    conn.execute(text(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE"))
                    for name in TABLES:
                        conn.execute(text(f"DROP TABLE {s}.{name}"))
                        conn.execute(text(f"ALTER TABLE {s}.{name}_new RENAME TO {name}"))
                    for index, _, _ in _INDEXES:
                        conn.execute(text(f"ALTER INDEX {s}.{index}_new RENAME TO {index}"))
                    for name in _KEYED:
                        conn.execute(text(f"ALTER INDEX {s}.{name}_new_pkey RENAME TO {name}_pkey"))
                    conn.execute(text(f"SELECT setval('{s}.ids', :n)"), {"n": last_id})
                    conn.execute(
                        text(f"UPDATE {s}.meta SET value = :v WHERE key = 'language'"),
                        {"v": self._language.code or ""},
                    )
            finally:
                lock_conn.execute(
                    text("SELECT pg_advisory_unlock(:k, :w)"), self._lock_args(_REBUILD_LOCK)
                )
                lock_conn.commit()
        stats.seconds = time.perf_counter() - started
        return stats

    def _fill(self, conn, interview_docs, document_docs, progress) -> tuple[RebuildStats, int]:
        """COPY every record into the ``_new`` tables, a batch of records at a time (memory
        stays bounded); returns the counts and the last id given."""
        stats = RebuildStats(interviews=0, documents=0, records=0, words=0, seconds=0.0)
        vocabulary: Counter = Counter()
        cursor = conn.connection.driver_connection.cursor()
        s = self.schema
        ids = itertools.count(1)
        rows = _Rows(ids.__next__)
        cards = []
        lexeme_docs: Counter = Counter()
        for docs in chain(interview_docs, ([d] for d in document_docs)):
            if not docs:
                continue
            if docs[0].get("kind") == "document":
                stats.documents += 1
            else:
                stats.interviews += 1
                cards.append(card_row(card_of(docs[0])))
            for doc in docs:
                record, words = record_row(doc, self._language)
                rows.add(record)
                vocabulary.update(words)
                lexeme_docs.update(record.lexemes)
                stats.records += 1
                if doc.get("kind") == "segment":
                    stats.words += len(folded_words(doc.get("text") or ""))
            if len(rows) >= REBUILD_BATCH:
                rows.copy(conn, s, "_new")
            if progress is not None:
                progress(1)
        rows.copy(conn, s, "_new")
        with cursor.copy(f"COPY {s}.card_new FROM STDIN") as copy:
            for row in cards:
                copy.write_row(row)
        with cursor.copy(f"COPY {s}.word_new FROM STDIN") as copy:
            for row in vocabulary.items():
                copy.write_row(row)
        conn.execute(
            text(
                'CREATE TEMP TABLE tally_words (lexeme text COLLATE "C" PRIMARY KEY, docs int)'
                " ON COMMIT DROP"
            )
        )
        tallied = [
            row for row in lexeme_docs.items() if tallied_lexeme(*row, self._language.stopwords)
        ]
        with cursor.copy("COPY tally_words FROM STDIN") as copy:
            for row in tallied:
                copy.write_row(row)
        # The pairs are counted here, not in Python: there are millions of them.
        conn.execute(text(frequent_pairs_sql(s, "_new", "tally_words")), {"n": TALLY_THRESHOLD})
        conn.execute(text("ANALYZE tally_words"))
        conn.execute(text(tally_sql(s, "_new")))
        # The frequent word triples (layout 5), from the positions: only in ``tally``.
        conn.execute(text(triple_tally_sql(s, "_new")), {"n": TALLY_THRESHOLD})
        capped = capped_prefixes((w for w, _ in tallied if w[0] == PREFIX_MARK), vocabulary.items())
        conn.execute(
            text(
                'CREATE TEMP TABLE tally_cap (word text COLLATE "C", lexeme text COLLATE "C")'
                " ON COMMIT DROP"
            )
        )
        with cursor.copy("COPY tally_cap FROM STDIN") as copy:
            for capped_lexeme, words in capped.items():
                for word in words:
                    copy.write_row((word, capped_lexeme))
        conn.execute(text("ANALYZE tally_cap"))
        conn.execute(text(capped_tally_sql(s, "_new", "tally_cap")))
        return stats, next(ids)

    # -------------------------------------------------------- consistency

    def access_tokens(self) -> dict[int, set[str]]:
        """Per interview, the access tokens its records carry (``"x"`` for its card), for
        ``services.indexing.check_consistency``."""
        found: dict[int, set[str]] = {}
        with self._read() as conn:
            for iid, acls in conn.execute(
                text(
                    f"SELECT interview_id, array_agg(DISTINCT acl) FROM {self.schema}.slice"
                    " WHERE interview_id IS NOT NULL GROUP BY interview_id"
                )
            ):
                found.setdefault(iid, set()).update(acls)
            for (iid,) in conn.execute(text(f"SELECT interview_id FROM {self.schema}.card")):
                found.setdefault(iid, set()).add("x")
        return found

    # -------------------------------------------------------- searching

    def _vocabulary(self, conn: Connection) -> Callable[[str, int], list[tuple[str, int]]]:
        def words(prefix: str, limit: int) -> list[tuple[str, int]]:
            return [
                (w, n)
                for w, n in conn.execute(
                    text(
                        f"SELECT word, docs FROM {self.schema}.word"
                        " WHERE word LIKE :p AND docs > 0 ORDER BY word LIMIT :n"
                    ),
                    {"p": like_escape(prefix) + "%", "n": limit},
                )
            ]

        return words

    def _compiler(self, conn: Connection) -> PgCompiler:
        return PgCompiler(self._language, self._vocabulary(conn), self.schema)

    def _filters(self, c: PgCompiler, filters: Mapping[str, str] | None) -> list[str]:
        out = []
        for name, value in (filters or {}).items():
            check_filter_name(name)
            if value is None or value == "":
                continue
            value = str(value)
            if name == "collection":
                out.append(c.cards(f"c.collection = {c.param(value.lower())}"))
            elif name == "narrator":
                out.append(c.cards(f"{c.param(fold(value))} = ANY(c.narrator_keys)"))
            elif name == "speaker":
                out.append(f"r.speaker_key = {c.param(fold(value))}")
            elif name == "language":
                out.append(c.cards(f"c.language = {c.param(value.lower())}"))
            elif name == "kind":
                if value.lower() not in KINDS:
                    raise QueryError(f"kind is one of {', '.join(KINDS)}, not {value!r}.")
                out.append(f"r.kind = {c.param(value.lower())}")
            elif name == "decade":
                if not (value.isdigit() and len(value) <= 4):
                    raise QueryError(f"decade is a year like 1950, not {value!r}.")
                low = int(value) // 10 * 10
                out.append(c._years(low, low + 9))
        return out

    def search(
        self,
        q: str,
        scope: SearchScope,
        *,
        page: int = 1,
        per_page: int = 20,
        sort: str = "relevance",
        filters: Mapping[str, str] | None = None,
        moments_per_group: int = 3,
    ) -> SearchResults:
        """Results grouped by interview (documents stand alone), computed under ``scope``.

        One statement (``_summary_sql``) finds the matching records once, reading only their
        narrow columns, never their ``tsv`` (the GIN index answers the match), and returns
        only what is shown: the totals, every facet from the groups' cards (a GROUP BY over
        one row per matching interview) and the page's group keys in order. A second
        statement ranks and cuts snippets for the shown groups' records alone."""
        check_request(sort, page, per_page)
        tree = parse(q)
        with self._read() as conn:
            c = self._compiler(conn)
            filter_sql = self._filters(c, filters)
            match = c.where(tree)
            scope_where = scope_sql(scope, c.param)
            where = " AND ".join([match, *filter_sql, scope_where])
            single = c.single_lexeme()
            summary_where, tally, frequency = where, None, 0
            if single is not None and single.capped is not None:
                single = self._capped(conn, single)
            if single is not None:
                frequency = self._tallied(conn, single.lexeme)
            if frequency:
                summary_where = " AND ".join([c.slice_where(), *filter_sql, scope_where])
                tally = _tally_source(self.schema, single, c.param)
            if frequency or SUMMARY_HASH_JOINS:
                # The planner takes an array's unnest for 10 rows and would look each slice
                # up by its key (40 k lookups for "work" at 10,000 interviews), and a GIN
                # match of a pair or a rare word for 1 row (4 k lookups for "the general
                # strike" at 1,000 interviews): hash joins.
                conn.execute(text("SET LOCAL enable_nestloop = off"))
            params = dict(c.params, limit=per_page, offset=(page - 1) * per_page)
            kinds: Counter = Counter()
            facets: dict[str, list[tuple[str, int]]] = {name: [] for name in FACETS}
            groups: dict[int, tuple[float, int, bool]] = {}
            page_keys: list[int] = []
            total_groups = 0
            for tag, value, n, m, score in conn.execute(
                text(_summary_sql(self.schema, summary_where, sort, tally)), params
            ).all():
                if tag == "total":
                    total_groups = int(n)
                elif tag == "page":
                    key = int(value)
                    page_keys.append(key)
                    groups[key] = (float(score), int(n), bool(m))
                elif tag == "kind":
                    kinds[value] = int(n)
                    facets["kind"].append((value, int(n)))
                else:
                    facets[tag].append((value, int(n)))
            if frequency or SUMMARY_HASH_JOINS:
                conn.execute(text("SET LOCAL enable_nestloop = on"))
            facets["kind"].sort(key=lambda kv: (-kv[1], kv[0]))
            facets["decade"].sort()
            cards = self._cards(conn, [k for k in page_keys if k > 0])
            rank = c.rank_query()
            # Many matches (in the archive, for a tallied lexeme whatever the filters): the
            # page's groups are read whole and each record checked (their records, not the
            # archive's matches; the planner takes a phrase for rare).
            whole = max(sum(kinds.values()), frequency) >= PAGE_SCAN_MATCHES
            page_where = where
            if whole:
                page_where = " AND ".join([c.page_where(tree), *filter_sql, scope_where])
            shown = self._page(
                conn, c, page_where, rank, page_keys, groups, cards, moments_per_group, whole
            )
            results = SearchResults(
                query=q,
                total_groups=total_groups,
                total_moments=kinds["segment"] + kinds["index"],
                groups=shown,
                facets=facets,
                page=page,
                per_page=per_page,
                notices=list(c.notices),
            )
            if not total_groups or (
                not requires_every_word(tree) and self._has_unseen_word(conn, tree, scope)
            ):
                results.suggestion = self._suggest(conn, q, tree, scope, filters)
            return results

    def _capped(self, conn: Connection, part: Part) -> Part:
        """A prefix over the expansion cap (``part.excess``) as its capped ``tally`` lexeme
        (``>trai*``) when that row counts the records of exactly the words searched (the
        most frequent words are still those of the last rebuild); else ``part`` as it is,
        counted as its prefix's records less those of the words left out."""
        if not (USE_TALLY and USE_CAPPED):
            return part
        name = f"{part.lexeme}{CAPPED_MARK}"
        words = conn.scalar(
            text(f"SELECT words FROM {self.schema}.tally WHERE lexeme = :l"), {"l": name}
        )
        if words is None or tuple(sorted(words)) != part.capped:
            return part
        return replace(part, lexeme=name, excess=None, capped=None)

    def _tallied(self, conn: Connection, lexeme: str | None) -> int:
        """How many records had ``lexeme`` at the last rebuild when its matches are counted
        in ``tally`` (it was frequent then); else 0."""
        if lexeme is None or not USE_TALLY:
            return 0
        found = conn.scalar(
            text(f"SELECT docs FROM {self.schema}.tally WHERE lexeme = :l"), {"l": lexeme}
        )
        return int(found or 0)

    def _cards(self, conn: Connection, ids: list[int]) -> dict[int, dict]:
        if not ids:
            return {}
        found = {}
        for row in conn.execute(
            text(
                f"SELECT interview_id, accession, title, collection, collection_title,"
                f" narrators, language, year, date_recorded FROM {self.schema}.card"
                " WHERE interview_id = ANY(:ids)"
            ),
            {"ids": ids},
        ).mappings():
            found[row["interview_id"]] = dict(row)
        return found

    def _card(self, cards: dict[int, dict], iid: int) -> dict:
        return cards.get(iid) or {"interview_id": iid, **CARD_DEFAULTS, "narrators": []}

    def _page(self, conn, c: PgCompiler, where, rank, page_keys, groups, cards, per_group, whole):
        """The shown groups: cards, and each interview's ``per_group`` best moments.
        ``whole``: read the groups' records whole and check the match on each (a frequent
        match, whose GIN bitmap is larger than the page's groups)."""
        source = _matching(self.schema)
        if whole:
            source = (
                f"(SELECT * FROM {self.schema}.hit WHERE gkey = ANY(:page_keys) OFFSET 0) h"
                f" JOIN {self.schema}.slice r ON r.id = h.slice"
            )
        wanted = [k for k in page_keys]
        best: dict[int, list] = {k: [] for k in wanted}
        if wanted:
            params = dict(c.params, page_keys=wanted, per_group=max(per_group, 1))
            rows = conn.execute(
                text(
                    f"""SELECT t.gkey, d.kind, d.interview_id, d.document_id, d.segment_id,
                        d.start_ms, d.end_ms, d.speaker, d.title, d.body
                    FROM (
                        SELECT h.id, r.gkey, row_number() OVER (PARTITION BY r.gkey
                            ORDER BY ts_rank(h.tsv, {rank}) DESC, h.id DESC) AS n
                        FROM {source}
                        WHERE {where} AND h.gkey = ANY(:page_keys) AND r.kind <> 'interview'
                    ) t JOIN {self.schema}.record d ON d.id = t.id
                    WHERE t.n <= :per_group"""
                ),
                params,
            ).mappings()
            for row in rows:
                best[row["gkey"]].append(row)
        out: list[InterviewGroup | DocumentHit] = []
        for key in page_keys:
            score, n_moments, catalogue = groups[key]
            if key < 0:
                (row,) = best[key][:1] or [None]
                out.append(
                    DocumentHit(
                        document_id=-key,
                        title=row["title"] if row else "",
                        snippet_html=self._highlighter.snippet(row["body"] if row else "", c.marks),
                        score=score,
                    )
                )
                continue
            card = self._card(cards, key)
            moments = [self._moment(r, c) for r in best[key][:per_group]] if per_group > 0 else []
            out.append(
                interview_group(
                    key,
                    card,
                    score=score,
                    total_moments=n_moments,
                    catalogue_match=catalogue,
                    moments=moments,
                )
            )
        return out

    def _moment(self, row, c: PgCompiler) -> Moment:
        return Moment(
            kind=row["kind"],
            interview_id=row["interview_id"],
            segment_id=row["segment_id"],
            start_ms=row["start_ms"],
            end_ms=row["end_ms"],
            speaker=row["speaker"] or "",
            snippet_html=self._highlighter.snippet(row["body"] or "", c.marks),
        )

    def search_interview(self, interview_id: int, q: str, scope: SearchScope) -> list[Moment]:
        tree = parse(q)
        with self._read() as conn:
            c = self._compiler(conn)
            match = c.where(tree)
            rows = conn.execute(
                text(
                    f"""SELECT d.kind, d.interview_id, d.segment_id, d.start_ms, d.end_ms,
                        d.speaker, d.body
                    FROM {_matching(self.schema)} JOIN {self.schema}.record d ON d.id = h.id
                    WHERE h.gkey = {c.param(int(interview_id))}
                        AND r.kind IN ('segment', 'index') AND {match}
                        AND {scope_sql(scope, c.param)}"""
                ),
                c.params,
            ).mappings()
            moments = [self._moment(row, c) for row in rows]
        moments.sort(key=lambda m: (m.start_ms is None, m.start_ms or 0, m.kind != "index"))
        return moments

    # -------------------------------------------------------- did you mean

    def suggest(self, q: str, scope: SearchScope) -> str | None:
        tree = parse(q)
        with self._read() as conn:
            return self._suggest(conn, q, tree, scope, None)

    def _visible(self, conn, words: list[str], scope: SearchScope, extra=None, tree=None) -> bool:
        c = self._compiler(conn)
        if tree is None:
            part = c.word(words[0])
            if part is None:
                return False
            match = part.render(c.param)
        else:
            match = c.where(tree)
        conds = [match, scope_sql(scope, c.param), *self._filters(c, extra)]
        return bool(
            conn.scalar(
                text(
                    f"SELECT EXISTS (SELECT 1 FROM {_matching(self.schema)}"
                    f" WHERE {' AND '.join(conds)})"
                ),
                c.params,
            )
        )

    def _has_unseen_word(self, conn, tree, scope) -> bool:
        for word in positive_words(tree):
            folded = folded_words(word.text)
            if len(folded) == 1 and not self._visible(conn, folded, scope):
                return True
        return False

    def _suggest(self, conn, q: str, tree, scope, filters) -> str | None:
        vocabulary = self._vocabulary(conn)

        def near(word: str, distance: int) -> list[str]:
            found = within(word, distance, vocabulary)
            return [t for t, _ in sorted(found, key=lambda t: (-t[1], t[0]))]

        return suggest_query(
            q,
            tree,
            fold=folded_words,
            visible=lambda word: self._visible(conn, [word], scope),
            near=near,
            finds=lambda corrected: self._visible(conn, [], scope, filters, tree=corrected),
        )
