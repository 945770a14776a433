"""The researcher's query language: parsed here, compiled to a whoosh query.

    union strike            both words (AND is the default)
    "general strike"        the exact phrase (unstemmed, accents and case folded)
    strike OR walkout       either; OR binds tighter than the implicit AND
    NOT pamphlet, -pamphlet without the word
    organi*, wom?n          prefix / wildcard: at least 3 letters before the first * or ?,
                            expanded to at most MAX_EXPANSIONS words (a notice says so)
    schneidr~, schnder~2    fuzzy: within an edit distance of 1 (or 2)
    speaker:clark narrator:"kate clark" collection:labour-lives kind:document
    year:1956  year:1956..1960  year:..1960  year:1956..
    ( ... )                 grouping

Parsing is independent of the index (syntax errors are raised before any search);
``compile_query`` expands prefixes, wildcards and fuzzy terms against the index vocabulary.
Every problem is a ``QueryError`` whose message says what to change.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from whoosh import query as wq

from ..errors import QueryError

MAX_QUERY_LENGTH = 500
MAX_TERMS = 40
MAX_DEPTH = 8
MIN_PREFIX = 3
MAX_EXPANSIONS = 64
# How many vocabulary words an expansion looks at before ranking them by frequency.
EXPANSION_SCAN = 2048
FIELDS = ("speaker", "narrator", "collection", "year", "kind")
QUERY_KINDS = ("document", "interview", "segment", "index")
_YEAR = re.compile(r"^(\d{1,4})?(?:(\.\.)(\d{1,4})?)?$")
_FUZZY = re.compile(r"^(.*?)~(\d*)$")


# ---------------------------------------------------------------- syntax tree


@dataclass
class Word:
    text: str
    start: int = 0
    end: int = 0


@dataclass
class Phrase:
    text: str


@dataclass
class Pattern:
    """A prefix (``organi*``) or wildcard (``wom?n``) over the unstemmed vocabulary."""

    text: str


@dataclass
class Fuzzy:
    text: str
    distance: int


@dataclass
class FieldValue:
    name: str
    value: str


@dataclass
class YearRange:
    low: int | None
    high: int | None


@dataclass
class AllOf:
    include: list = field(default_factory=list)
    exclude: list = field(default_factory=list)


@dataclass
class AnyOf:
    items: list = field(default_factory=list)


# ---------------------------------------------------------------- lexer


@dataclass
class _Token:
    kind: str  # word | phrase | field | lparen | rparen | or | and | not
    text: str = ""
    start: int = 0
    end: int = 0
    name: str = ""  # field name, for kind == "field"
    quoted: bool = False


def _lex(q: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(q)
    while i < n:
        c = q[i]
        if c.isspace():
            i += 1
            continue
        if c == "(":
            tokens.append(_Token("lparen", start=i, end=i + 1))
            i += 1
            continue
        if c == ")":
            tokens.append(_Token("rparen", start=i, end=i + 1))
            i += 1
            continue
        if c == '"':
            close = q.find('"', i + 1)
            if close < 0:
                raise QueryError(
                    'A quotation mark is not closed: add the closing " or remove the opening one.'
                )
            tokens.append(_Token("phrase", q[i + 1 : close], i, close + 1))
            i = close + 1
            continue
        negated = False
        if c == "-" and i + 1 < n and not q[i + 1].isspace() and q[i + 1] not in "-)":
            negated = True
            tokens.append(_Token("not", "-", i, i + 1))
            i += 1
        j = i
        while j < n and not q[j].isspace() and q[j] not in '()"':
            j += 1
        text = q[i:j]
        name, colon, value = text.partition(":")
        if colon and name.lower() in FIELDS:
            if not value and j < n and q[j] == '"':
                close = q.find('"', j + 1)
                if close < 0:
                    raise QueryError(
                        f'The quotation mark after {name}: is not closed: add the closing ".'
                    )
                tokens.append(
                    _Token("field", q[j + 1 : close], i, close + 1, name.lower(), quoted=True)
                )
                i = close + 1
                continue
            if not value:
                raise QueryError(f"{name}: needs a value after it, for example {_example(name)}.")
            tokens.append(_Token("field", value, i, j, name.lower()))
        elif not negated and text in ("OR", "AND", "NOT"):
            tokens.append(_Token(text.lower(), text, i, j))
        elif text == "-":
            pass  # a dash standing alone ("1950 - 1960") is punctuation
        else:
            tokens.append(_Token("word", text, i, j))
        i = j
    return tokens


def _example(name: str) -> str:
    return {
        "speaker": "speaker:clark",
        "narrator": 'narrator:"kate clark"',
        "collection": "collection:labour-lives",
        "year": "year:1956 or year:1956..1960",
        "kind": "kind:document",
    }[name]


# ---------------------------------------------------------------- parser


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.terms = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self):
        node = self.all_of(depth=0)
        if self.peek() is not None:  # only a stray ")" can stop all_of early
            raise QueryError("A closing bracket ) has no opening one: remove it or add a (.")
        return node

    def all_of(self, depth: int) -> AllOf:
        if depth > MAX_DEPTH:
            raise QueryError(f"Brackets are nested too deeply (at most {MAX_DEPTH} levels).")
        node = AllOf()
        while (tok := self.peek()) is not None and tok.kind != "rparen":
            if tok.kind == "and":
                self.take()
                if self.peek() is None or self.peek().kind in ("rparen", "or", "and"):
                    raise QueryError("AND needs a word on each side, for example: strike AND mill.")
                if not node.include and not node.exclude:
                    raise QueryError("AND needs a word on each side, for example: strike AND mill.")
                continue
            if tok.kind == "not":
                self.take()
                nxt = self.peek()
                if nxt is None or nxt.kind in ("rparen", "or", "and", "not"):
                    raise QueryError(
                        "NOT (or -) needs a word right after it, for example: -pamphlet."
                    )
                node.exclude.append(self.any_of(depth))
                continue
            if tok.kind == "or":
                raise QueryError("OR needs a word on each side, for example: strike OR walkout.")
            node.include.append(self.any_of(depth))
        if not node.include:
            if node.exclude:
                raise QueryError(
                    "Add at least one word to look for: a query cannot only exclude words."
                )
            raise QueryError("There is nothing to search for: type a word or a phrase.")
        return node

    def any_of(self, depth: int):
        first = self.primary(depth)
        items = [first]
        while (tok := self.peek()) is not None and tok.kind == "or":
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind not in ("word", "phrase", "field", "lparen"):
                raise QueryError("OR needs a word on each side, for example: strike OR walkout.")
            items.append(self.primary(depth))
        return items[0] if len(items) == 1 else AnyOf(items)

    def primary(self, depth: int):
        tok = self.take()
        if tok.kind == "lparen":
            inner = self.all_of(depth + 1)
            closing = self.peek()
            if closing is None or closing.kind != "rparen":
                raise QueryError("A bracket ( is not closed: add the closing ) or remove it.")
            self.take()
            return inner
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise QueryError(f"The query has too many words (at most {MAX_TERMS}).")
        if tok.kind == "phrase":
            if not tok.text.strip():
                raise QueryError('An empty pair of quotation marks "" has nothing to search for.')
            return Phrase(tok.text)
        if tok.kind == "field":
            return _field(tok)
        if tok.kind == "word":
            return _word(tok)
        raise QueryError(f"{tok.text} needs a word on each side.")  # pragma: no cover


def _field(tok: _Token):
    name, value = tok.name, tok.text.strip()
    if not value:
        raise QueryError(f"{name}: needs a value after it, for example {_example(name)}.")
    if name == "year":
        m = _YEAR.match(value)
        if not m or (m.group(1) is None and m.group(3) is None):
            raise QueryError(
                f"year: takes a year or a range, for example year:1956 or year:1956..1960"
                f" (not {value!r})."
            )
        low = int(m.group(1)) if m.group(1) else None
        high = int(m.group(3)) if m.group(3) else None
        if not m.group(2):
            high = low
        if low is not None and high is not None and low > high:
            raise QueryError(f"year:{value} starts after it ends: write the earlier year first.")
        return YearRange(low, high)
    if name == "kind":
        kind = value.lower()
        if kind not in QUERY_KINDS:
            raise QueryError(f"kind: is one of {', '.join(QUERY_KINDS)} (not {value!r}).")
        return FieldValue("kind", kind)
    return FieldValue(name, value)


def _word(tok: _Token):
    text = tok.text
    fz = _FUZZY.match(text)
    if "~" in text and not fz:
        raise QueryError(
            f"Write a fuzzy word as word~ or word~2 (an edit distance of 1 or 2), not {text!r}."
        )
    if fz:
        base, dist = fz.group(1), fz.group(2)
        if not base or dist not in ("", "1", "2") or any(c in base for c in "*?~"):
            raise QueryError(
                f"Write a fuzzy word as word~ or word~2 (an edit distance of 1 or 2), not {text!r}."
            )
        return Fuzzy(base, int(dist or 1))
    if "*" in text or "?" in text:
        literal = re.split(r"[*?]", text, maxsplit=1)[0]
        if len(literal) < MIN_PREFIX:
            raise QueryError(
                f"A * or ? needs at least {MIN_PREFIX} letters before it (for example organi*),"
                f" not {text!r}."
            )
        return Pattern(text)
    return Word(text, tok.start, tok.end)


def parse(q: str):
    """The syntax tree of a query, or ``QueryError`` saying what to change."""
    if q is None or not q.strip():
        raise QueryError("There is nothing to search for: type a word or a phrase.")
    if len(q) > MAX_QUERY_LENGTH:
        raise QueryError(f"The query is too long: at most {MAX_QUERY_LENGTH} characters.")
    return _Parser(_lex(q)).parse()


def positive_words(node) -> list[Word]:
    """The plain words a query looks for (not excluded ones): what "did you mean" corrects."""
    if isinstance(node, Word):
        return [node]
    if isinstance(node, AllOf):
        return [w for item in node.include for w in positive_words(item)]
    if isinstance(node, AnyOf):
        return [w for item in node.items for w in positive_words(item)]
    return []


# ---------------------------------------------------------------- compiler


@dataclass
class Marks:
    """What snippets highlight: stems (of plain words), folded words (of phrases, prefixes
    and fuzzy words), and exact phrases."""

    stems: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)
    phrases: list[tuple[str | None, ...]] = field(default_factory=list)  # None: any word


class Compiler:
    """Turns a syntax tree into a whoosh query against one reader's vocabulary."""

    def __init__(self, reader, language, fold_analyzer, interviews, kinds, cache=None) -> None:
        """``language`` is a ``schema.Language`` (stemmer, stop words);
        ``interviews(card_query)`` turns a query over interview cards (collection, narrator,
        year, language) into a query matching every record of those interviews;
        ``kinds(names)`` is a query matching every record of those kinds."""
        self.reader = reader
        # Vocabulary look-ups (expansions, speaker names) for this reader's
        # generation: the caller clears it when the index changes.
        self.cache = {} if cache is None else cache
        self.interviews = interviews
        self.kinds = kinds
        self.language = language
        self.fold = fold_analyzer
        self.marks = Marks()
        self.notices: list[str] = []

    def _tokens(self, analyzer, text: str) -> list[str]:
        return [t.text for t in analyzer(text)]

    def compile(self, node, negated: bool = False):
        if isinstance(node, AllOf):
            items = node.include
            # Stop words ("the") are dropped from a list of words unless nothing else is left.
            content = [n for n in items if not self._is_stopword(n)]
            include = [q for q in (self.compile(n, negated) for n in content or items) if q]
            exclude = [q for q in (self.compile(n, True) for n in node.exclude) if q]
            if not include:
                return None
            positive = include[0] if len(include) == 1 else wq.And(include)
            if exclude:
                negative = exclude[0] if len(exclude) == 1 else wq.Or(exclude)
                return wq.AndNot(positive, negative)
            return positive
        if isinstance(node, AnyOf):
            items = [q for q in (self.compile(n, negated) for n in node.items) if q]
            if not items:
                return None
            return items[0] if len(items) == 1 else wq.Or(items)
        if isinstance(node, Word):
            return self.word(node.text, negated)
        if isinstance(node, Phrase):
            return self._phrase(node.text, negated)
        if isinstance(node, Pattern):
            return self._pattern(node.text, negated)
        if isinstance(node, Fuzzy):
            return self._fuzzy(node, negated)
        if isinstance(node, YearRange):
            years = wq.NumericRange("year", node.low, node.high)
            return wq.Or([self.interviews(years), wq.And([self.kinds({"document"}), years])])
        if isinstance(node, FieldValue):
            if node.name == "kind":
                return self.kinds({node.value})
            if node.name == "collection":
                return self.interviews(wq.Term("collection", node.value.lower()))
            words = self._tokens(self.fold, node.value)
            if not words:
                raise QueryError(f"{node.name}:{node.value} has no letters or digits to match.")
            if node.name == "speaker":
                return self._speaker(words)
            names = (
                wq.Term("narrator", words[0]) if len(words) == 1 else wq.Phrase("narrator", words)
            )
            return self.interviews(names)
        raise TypeError(node)  # pragma: no cover

    def _is_stopword(self, node) -> bool:
        if not isinstance(node, Word) or not self.language.stopwords:
            return False
        words = self._tokens(self.fold, node.text)
        return len(words) == 1 and words[0] in self.language.stopwords

    def word(self, text: str, negated: bool = False):
        """A plain word: its stem in ``body`` (a stop word alone: itself in ``exact``)."""
        words = self._tokens(self.fold, text)
        if len(words) != 1:
            return self._phrase(text, negated)
        form = self.language.body_form(words[0])
        if form is None:  # a stop word, searched on its own
            if not negated:
                self.marks.words.add(words[0])
            return wq.Term("exact", words[0])
        if not negated:
            self.marks.stems.add(form)
        return wq.Term("body", form)

    def _phrase(self, text: str, negated: bool):
        words = self._tokens(self.fold, text)
        if not words:
            return None
        if not negated:
            if len(words) == 1:
                self.marks.words.add(words[0])
            else:
                # A stop word in a phrase holds a place but is not checked (see evaluate).
                stop = self.language.stopwords
                slots = tuple(None if w in stop else w for w in words)
                self.marks.phrases.append(slots if any(slots) else tuple(words))
        if len(words) == 1:
            return wq.Term("exact", words[0])
        return wq.Phrase("exact", words)

    def _cached(self, key, compute):
        found = self.cache.get(key)
        if found is None:
            if len(self.cache) > 20_000:
                self.cache.clear()
            found = self.cache[key] = compute()
        return found

    def _speaker(self, words: list[str]):
        """Speakers whose (folded) name contains these words in this order."""
        wanted = " " + " ".join(words) + " "
        names = self._cached(
            ("speakers",), lambda: [_text(t) for t in self.reader.lexicon("speaker_key")]
        )
        keys = [k for k in names if wanted in " " + k + " "]
        if not keys:
            return wq.NullQuery
        return wq.Or([wq.Term("speaker_key", k) for k in keys])

    def _expanded(self, label: str, terms: list[str], negated: bool):
        if len(terms) > MAX_EXPANSIONS:
            freq = self.reader.doc_frequency
            terms = self._cached(
                ("top", label, len(terms)),
                lambda: sorted(terms, key=lambda t: -freq("exact", t))[:MAX_EXPANSIONS],
            )
            self.notices.append(
                f"{label} matches many words; only the {MAX_EXPANSIONS} most frequent were"
                " searched. Type more letters to narrow it."
            )
        if not terms:
            return wq.NullQuery
        if not negated:
            self.marks.words.update(terms)
        if len(terms) == 1:
            return wq.Term("exact", terms[0])
        return wq.Or([wq.Term("exact", t) for t in terms])

    def _pattern(self, text: str, negated: bool):
        literal = re.split(r"[*?]", text, maxsplit=1)[0]
        folded_literal = "".join(self._tokens(self.fold, literal))
        if len(folded_literal) < MIN_PREFIX:
            raise QueryError(
                f"A * or ? needs at least {MIN_PREFIX} letters before it, not {text!r}."
            )
        pattern = folded_literal + "".join(
            c if c in "*?" else "".join(self._tokens(self.fold, c)) for c in text[len(literal) :]
        )
        simple_prefix = pattern.endswith("*") and not any(c in "*?" for c in pattern[:-1])
        matcher = None if simple_prefix else re.compile(fnmatch.translate(pattern)).match

        def expand() -> list[str]:
            terms = []
            for i, raw in enumerate(self.reader.expand_prefix("exact", folded_literal)):
                if i >= EXPANSION_SCAN:
                    break
                t = _text(raw)
                if matcher is None or matcher(t):
                    terms.append(t)
            return terms

        return self._expanded(text, self._cached(("pattern", pattern), expand), negated)

    def _fuzzy(self, node: Fuzzy, negated: bool):
        words = self._tokens(self.fold, node.text)
        if len(words) != 1:
            raise QueryError(f"A fuzzy search takes one word, not {node.text!r}.")
        word = words[0]
        # The first letters must match (two for longer words): whoosh's automaton is ~10x
        # faster with a two-letter prefix, and typos rarely sit there.
        prefix = 2 if len(word) >= 5 else (1 if len(word) > 2 else 0)
        terms = self._cached(
            ("fuzzy", word, node.distance),
            lambda: sorted(
                {_text(t) for t in self.reader.terms_within("exact", word, node.distance, prefix)}
            ),
        )
        return self._expanded(node.text + "~", terms, negated)


def _text(term: str | bytes) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term
