"""The README's query syntax (``query.parse``'s tree) compiled to PostgreSQL: a ``tsquery``
over the record's one ``tsv`` column (``h``: its ``hit`` row) where it can, SQL conditions
over its slice's facts (``r``: speakers, interview facts, kinds, years) where it must.

The lexemes are the ones ``pg_records.tsvector_literal`` writes, from the same analysis as the
Whoosh engine (``schema.Language``: folding, stop words, stemmer): a plain word is its stem
with the ``~`` mark (``~organis``), a quoted phrase of two words their pair lexeme
(``'=cotton mill'``), a longer one its pairs and its folded words at consecutive positions
(``'=cotton mill' & '=mill town' & ('cotton' <-> 'mill' <-> 'town')``), a prefix, wildcard or
fuzzy word the folded words of the archive's vocabulary table that it expands to (capped at
``MAX_EXPANSIONS``, with the same notice as Whoosh). Snippets are marked from the same ``Marks``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise

from ..errors import QueryError
from .query import (
    EXPANSION_SCAN,
    MAX_EXPANSIONS,
    MIN_PREFIX,
    AllOf,
    AnyOf,
    FieldValue,
    Fuzzy,
    Marks,
    Pattern,
    Phrase,
    Word,
    YearRange,
)
from .schema import Language, folded_words

STEM_MARK = "~"
#: The mark of a prefix lexeme (``>trai``: the record has a word starting with ``trai``),
#: written for prefixes of ``PREFIX_LENGTHS`` letters (both ends included).
PREFIX_MARK = ">"
PREFIX_LENGTHS = (MIN_PREFIX, 6)
#: The mark of a word-pair lexeme (``=picket line``: the record has ``picket`` at some
#: position and ``line`` at the next), written without positions for every adjacent pair.
PAIR_MARK = "="
#: Whether quoted phrases are matched through their pair lexemes (tests turn it off to
#: compare with matching the words' positions alone).
USE_PAIRS = True
#: Whether a three-word phrase names its triple (``=the general strike``), so that its
#: matches are counted from ``tally`` when the triple is tallied (tests turn it off).
USE_TRIPLES = True
NOTHING = "FALSE"
#: The column queries match (a record's ``hit`` row).
TSV = "h.tsv"
#: From how many words an expansion (prefix, wildcard, fuzzy) is matched word by word.
MANY_WORDS = 4


def lexeme(word: str) -> str:
    """A word quoted as a tsquery/tsvector lexeme."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def pair_lexeme(first: str, second: str) -> str:
    """The pair lexeme (unquoted) of two folded words at consecutive positions."""
    return f"{PAIR_MARK}{first} {second}"


def triple_lexeme(first: str, second: str, third: str) -> str:
    """The triple (unquoted) of three folded words at consecutive positions: a ``tally``
    lexeme only (never written in ``hit.tsv``), with the pair mark and two spaces."""
    return f"{PAIR_MARK}{first} {second} {third}"


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass
class Part:
    """A compiled node: a tsquery (``ts``) and/or a SQL condition (``sql``), both required;
    ``none``: matches nothing."""

    ts: str | None = None
    sql: str | None = None
    none: bool = False
    #: When not ``None``: the part's text match is the records with this lexeme (unquoted),
    #: less those ``excess`` names, and ANDed with ``slice_sql`` (conditions on the slice).
    lexeme: str | None = None
    #: ``(more, kept)``: tsqueries: the records with the lexeme that match ``more`` and not
    #: ``kept`` are not matched (a prefix over the expansion cap: its words beyond the most
    #: frequent ones, which are ``kept``).
    excess: tuple[str, str] | None = None
    #: With ``excess``: the words searched (the ``kept`` ones, in code point order): a
    #: ``tally`` row of the prefix capped to exactly these words counts the same records.
    capped: tuple[str, ...] | None = None
    slice_sql: str | None = None

    def reads_tsv(self) -> bool:
        """Its slice conditions read the record's tsvector (so they are not slice
        conditions)."""
        return self.slice_sql is not None and TSV in self.slice_sql

    def render(self, param: Callable[[object], str]) -> str:
        """The SQL condition (the tsquery bound through ``param``)."""
        if self.none:
            return NOTHING
        out = []
        if self.ts is not None:
            out.append(f"{TSV} @@ CAST({param(self.ts)} AS tsquery)")
        if self.sql is not None:
            out.append(self.sql)
        return "(" + " AND ".join(out) + ")" if len(out) > 1 else out[0]


@dataclass
class PgCompiler:
    """Compiles one query. ``vocabulary(prefix, limit)`` lists the archive's folded words
    starting with ``prefix`` (in order) with their record counts."""

    language: Language
    vocabulary: Callable[[str, int], list[tuple[str, int]]]
    schema: str
    params: dict = field(default_factory=dict)
    marks: Marks = field(default_factory=Marks)
    notices: list[str] = field(default_factory=list)
    positive_ts: list[str] = field(default_factory=list)
    #: Compiling for the moments of the page's few groups (``page_where``).
    for_page: bool = False
    #: The compiled query (``where``).
    top: Part | None = None

    def param(self, value) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def where(self, node) -> str:
        part = self.compile(node)
        if part is None:
            raise QueryError("The query has no letters or digits to search for.")
        self.top = part
        return part.render(self.param)

    def page_where(self, node) -> str:
        """``where`` for reading the page's groups only, whose records are read from
        ``hit``'s group index (a frequent match's GIN bitmap would be larger than them): an
        expansion is one tsquery checked on each of them, after its prefix lexeme if it has
        one, rather than an OR of index conditions."""
        page = PgCompiler(self.language, self.vocabulary, self.schema, self.params, for_page=True)
        return page.where(node)

    def single_lexeme(self) -> Part | None:
        """After ``where``: the query's top part when its text match is one lexeme (less an
        ``excess``) and everything else in it is a condition on the record's slice (speaker,
        kind, interview facts), so its matches can be counted per slice from ``tally``."""
        top = self.top
        if top is None or top.none or top.lexeme is None or top.reads_tsv():
            return None
        return top

    def slice_where(self) -> str:
        """After ``where``, when ``single_lexeme`` is not ``None``: its conditions on the
        slice, without the text match."""
        return (self.top and self.top.slice_sql) or "TRUE"

    def rank_query(self) -> str:
        """A tsquery of every positive word (what ``ts_rank`` weighs)."""
        if not self.positive_ts:
            return "CAST('' AS tsquery)"
        return f"CAST({self.param(' | '.join(f'({t})' for t in self.positive_ts))} AS tsquery)"

    # ------------------------------------------------------------ tree

    def compile(self, node, negated: bool = False) -> Part | None:
        if isinstance(node, AllOf):
            content = [n for n in node.include if not self._is_stopword(n)]
            include = [p for p in (self.compile(n, negated) for n in content or node.include) if p]
            exclude = [p for p in (self.compile(n, True) for n in node.exclude) if p]
            if not include:
                return None
            if any(p.none for p in include):
                return Part(none=True)
            exclude = [p for p in exclude if not p.none]
            ts = [p.ts for p in include if p.ts is not None]
            sql = [p.sql for p in include if p.sql is not None]
            excluded = []
            for p in exclude:
                if p.sql is None:
                    ts.append(f"!({p.ts})")
                else:
                    excluded.append(f"NOT {p.render(self.param)}")
            part = Part(
                ts=" & ".join(f"({t})" for t in ts) if ts else None,
                sql=" AND ".join(sql + excluded) if sql or excluded else None,
            )
            texts = [p for p in include if p.ts is not None or p.lexeme is not None]
            only = len(texts) == 1 and not any(p.sql is None for p in exclude)
            if only and texts[0].lexeme is not None:
                # One text match ANDed with slice conditions stays that one lexeme.
                (text,) = texts
                rest = [p.sql for p in include if p is not text and p.sql is not None]
                rest += [text.slice_sql] if text.slice_sql is not None else []
                rest += excluded
                part.lexeme, part.excess, part.capped = text.lexeme, text.excess, text.capped
                part.slice_sql = " AND ".join(rest) if rest else None
            return part
        if isinstance(node, AnyOf):
            items = [p for p in (self.compile(n, negated) for n in node.items) if p]
            items = [p for p in items if not p.none]
            if not items:
                return Part(none=True) if node.items else None
            if len(items) == 1:
                return items[0]
            if all(p.sql is None for p in items):
                return Part(ts=" | ".join(f"({p.ts})" for p in items))
            return Part(sql="(" + " OR ".join(p.render(self.param) for p in items) + ")")
        if isinstance(node, Word):
            return self.word(node.text, negated)
        if isinstance(node, Phrase):
            return self._phrase(node.text, negated)
        if isinstance(node, Pattern):
            return self._pattern(node.text, negated)
        if isinstance(node, Fuzzy):
            return self._fuzzy(node, negated)
        if isinstance(node, YearRange):
            return Part(sql=self._years(node.low, node.high))
        if isinstance(node, FieldValue):
            return self._field(node)
        raise TypeError(node)  # pragma: no cover

    def _text(
        self, ts: str, negated: bool, word: str | None = None, rank: str | None = None
    ) -> Part:
        """A text match ``ts``; ``word``: the one lexeme it is (unquoted); ``rank``: what
        ``ts_rank`` weighs for it, if not ``ts`` itself."""
        if not negated:
            self.positive_ts.append(rank or ts)
        return Part(ts=ts, lexeme=None if negated else word)

    # ------------------------------------------------------------ interview facts

    def cards(self, condition: str, *more: str) -> str:
        """Every record of the interviews whose card meets ``condition`` (and of the groups
        the further ``SELECT``s of group keys name)."""
        # gkey is the interview id of an interview's records (a document's is negative). The
        # keys are computed once (an ARRAY sub-select), so the condition is an index condition
        # on hit.gkey that PostgreSQL ANDs with the GIN match: only the chosen interviews'
        # matches are read.
        keys = " UNION ALL ".join(
            [f"SELECT c.interview_id FROM {self.schema}.card c WHERE {condition}", *more]
        )
        return f"h.gkey = ANY(ARRAY({keys}))"

    def _years(self, low: int | None, high: int | None) -> str:
        conds = []
        if low is not None:
            conds.append(f"{{col}} >= {self.param(low)}")
        if high is not None:
            conds.append(f"{{col}} <= {self.param(high)}")
        card = " AND ".join(c.format(col="c.year") for c in conds)
        doc = " AND ".join(c.format(col="d.year") for c in conds)
        documents = f"SELECT d.gkey FROM {self.schema}.slice d WHERE d.kind = 'document' AND {doc}"
        return self.cards(card, documents)

    def _field(self, node: FieldValue) -> Part:
        if node.name == "kind":
            return Part(sql=f"r.kind = {self.param(node.value)}")
        if node.name == "collection":
            return Part(sql=self.cards(f"c.collection = {self.param(node.value.lower())}"))
        words = folded_words(node.value)
        if not words:
            raise QueryError(f"{node.name}:{node.value} has no letters or digits to match.")
        pattern = self.param("% " + like_escape(" ".join(words)) + " %")
        if node.name == "speaker":
            return Part(sql=f"(' ' || r.speaker_key || ' ') LIKE {pattern}")
        return Part(sql=self.cards(f"c.narrator_text LIKE {pattern}"))

    # ------------------------------------------------------------ words

    def _is_stopword(self, node) -> bool:
        if not isinstance(node, Word) or not self.language.stopwords:
            return False
        words = folded_words(node.text)
        return len(words) == 1 and words[0] in self.language.stopwords

    def word(self, text: str, negated: bool = False) -> Part | None:
        """A plain word: its stem (a stop word alone: itself)."""
        words = folded_words(text)
        if len(words) != 1:
            return self._phrase(text, negated)
        form = self.language.body_form(words[0])
        if form is None:
            if not negated:
                self.marks.words.add(words[0])
            return self._text(lexeme(words[0]), negated, words[0])
        if not negated:
            self.marks.stems.add(form)
        return self._text(lexeme(STEM_MARK + form), negated, STEM_MARK + form)

    def _phrase(self, text: str, negated: bool) -> Part | None:
        words = folded_words(text)
        if not words:
            return None
        if not negated:
            if len(words) == 1:
                self.marks.words.add(words[0])
            else:
                stop = self.language.stopwords
                slots = tuple(None if w in stop else w for w in words)
                self.marks.phrases.append(slots if any(slots) else tuple(words))
        positional = " <-> ".join(lexeme(w) for w in words)
        if len(words) == 1 or not USE_PAIRS:
            return self._text(positional, negated, words[0] if len(words) == 1 else None)
        pairs = [pair_lexeme(a, b) for a, b in pairwise(words)]
        if len(pairs) == 1:
            # Two words: exactly the records with their pair lexeme (no positions to check).
            return self._text(lexeme(pairs[0]), negated, pairs[0], rank=positional)
        # Longer: the records with every pair (the GIN index's candidates), whose positions
        # are then checked on each. The check is a function call, not ``@@``, so that the
        # index scan reads the pairs' entries only: with the words' too it also walks their
        # posting lists ("the": nearly every record).
        ts = " & ".join(lexeme(p) for p in dict.fromkeys(pairs))
        # Three words: the match is exactly the records with the triple at consecutive
        # positions, which ``tally`` counts when it is frequent (no ``hit`` row read for the
        # totals); the match itself stays the pairs and positions (the triple is not in
        # ``hit.tsv``).
        triple = triple_lexeme(*words) if len(words) == 3 and USE_TRIPLES else None
        part = self._text(ts, negated, triple, rank=positional)
        part.sql = f"ts_match_vq({TSV}, CAST({self.param(positional)} AS tsquery))"
        return part

    def _expanded(
        self, label: str, terms: list[tuple[str, int]], negated: bool, prefix: str | None = None
    ) -> Part:
        """The OR of the expansion's ``terms`` (the ``MAX_EXPANSIONS`` most frequent, with a
        notice, when there are more). ``prefix``: a simple prefix whose every vocabulary word
        is in ``terms``; when they are all searched, the match is its one prefix lexeme
        (``>trai``: the same records as the OR of its words), still ranked by the words."""
        more = None
        if len(terms) > MAX_EXPANSIONS:
            ranked = sorted(terms, key=lambda t: (-t[1], t[0]))
            terms = ranked[:MAX_EXPANSIONS]
            more = " | ".join(lexeme(w) for w, _ in ranked[MAX_EXPANSIONS:])
            self.notices.append(
                f"{label} matches many words; only the {MAX_EXPANSIONS} most frequent were"
                " searched. Type more letters to narrow it."
            )
        if not terms:
            return Part(none=True)
        words = [t for t, _ in terms]
        if not negated:
            self.marks.words.update(words)
        ored = " | ".join(lexeme(w) for w in words)
        mark = None if prefix is None or negated else PREFIX_MARK + prefix
        if prefix is not None and more is None:
            return self._text(lexeme(PREFIX_MARK + prefix), negated, mark, rank=ored)
        part = self._text(ored, negated)
        if self.for_page:
            if mark is not None:
                part = Part(
                    sql=f"{TSV} @@ CAST({self.param(lexeme(mark))} AS tsquery)"
                    f" AND {part.render(self.param)}"
                )
        elif len(words) >= MANY_WORDS:
            # One index condition per word, which PostgreSQL ORs as bitmaps: one tsquery of
            # many alternatives makes the GIN scan run the whole OR on every candidate row
            # (trai*, 64 words at 1,000 interviews: 74 ms against 336 ms for the index scan).
            each = (f"{TSV} @@ CAST({self.param(lexeme(w))} AS tsquery)" for w in words)
            part = Part(sql="(" + " OR ".join(each) + ")")
        if mark is not None:
            # Over the cap, a whole prefix's records less those with only the words left out.
            part.lexeme, part.excess = mark, (more, ored)
            part.capped = tuple(sorted(words))
        return part

    def _pattern(self, text: str, negated: bool) -> Part:
        literal = re.split(r"[*?]", text, maxsplit=1)[0]
        folded_literal = "".join(folded_words(literal))
        if len(folded_literal) < MIN_PREFIX:
            raise QueryError(
                f"A * or ? needs at least {MIN_PREFIX} letters before it, not {text!r}."
            )
        pattern = folded_literal + "".join(
            c if c in "*?" else "".join(folded_words(c)) for c in text[len(literal) :]
        )
        simple_prefix = pattern.endswith("*") and not any(c in "*?" for c in pattern[:-1])
        matcher = None if simple_prefix else re.compile(fnmatch.translate(pattern)).match
        terms = [
            (w, n)
            for w, n in self.vocabulary(folded_literal, EXPANSION_SCAN)
            if matcher is None or matcher(w)
        ]
        low, high = PREFIX_LENGTHS
        # Every word of the prefix is listed when fewer than EXPANSION_SCAN were found.
        whole = simple_prefix and low <= len(folded_literal) <= high and len(terms) < EXPANSION_SCAN
        return self._expanded(text, terms, negated, folded_literal if whole else None)

    def _fuzzy(self, node: Fuzzy, negated: bool) -> Part:
        words = folded_words(node.text)
        if len(words) != 1:
            raise QueryError(f"A fuzzy search takes one word, not {node.text!r}.")
        word = words[0]
        terms = within(word, node.distance, self.vocabulary)
        return self._expanded(node.text + "~", terms, negated)


def within(
    word: str, distance: int, vocabulary: Callable[[str, int], list[tuple[str, int]]]
) -> list[tuple[str, int]]:
    """The vocabulary's words within ``distance`` edits of ``word`` sharing its first letters
    (two for longer words, as the Whoosh engine: typos rarely sit there), with their counts."""
    prefix = 2 if len(word) >= 5 else (1 if len(word) > 2 else 0)
    found = []
    for term, n in vocabulary(word[:prefix], 1_000_000):
        if abs(len(term) - len(word)) <= distance and edits(word, term, distance) <= distance:
            found.append((term, n))
    return sorted(found)


def edits(a: str, b: str, limit: int) -> int:
    """The Levenshtein distance of ``a`` and ``b`` (``limit + 1`` once it exceeds ``limit``)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]
