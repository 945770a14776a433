"""Transcript text to the words an engine pronounces, and back.

A transcript word keeps its written form (``Americans,``) for display; the engine sees its key
(``americans``): lower case, without surrounding punctuation, curly apostrophes made straight.
Words the engine's dictionary lacks (numbers written as digits, rare names) get an empty key:
they are not aligned themselves and take their time from their neighbours.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_EDGE = re.compile(r"^[^\w']+|[^\w']+$")
#: Bracketed stage directions ("[laughs]", "(inaudible)") and timecode marks are not speech.
_NOT_SPOKEN = re.compile(r"\[[^\]]*\]|\([^)]*\)")


@dataclass(frozen=True)
class Token:
    """One written word of segment ``segment`` with its engine key (``""``: not alignable)."""

    segment: int
    text: str
    key: str


def key_of(word: str) -> str:
    """The normalised form a pronouncing dictionary is looked up with."""
    word = unicodedata.normalize("NFKC", word).replace("\u2019", "'").replace("\u2018", "'")
    word = _EDGE.sub("", word.lower()).strip("'")
    return word


def spoken_words(text: str) -> list[str]:
    """The written words of a segment's text that are meant to be heard."""
    return _NOT_SPOKEN.sub(" ", text).split()


def tokenise(texts: Sequence[str], known: Callable[[str], bool]) -> list[Token]:
    """Every spoken word of every segment, in order, with a key when ``known`` (the engine's
    dictionary) can pronounce it."""
    tokens: list[Token] = []
    for index, text in enumerate(texts):
        for word in spoken_words(text):
            key = key_of(word)
            tokens.append(Token(index, word, key if key and known(key) else ""))
    return tokens
