"""The engine interface: what the alignment and transcription pipelines need from a speech
engine. One engine ships (``sphinx.PocketSphinx``); a stronger one (a neural aligner, Whisper)
is added by implementing this protocol and listing it in ``engines.engine_for``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from .anchoring import Heard


class Engine(Protocol):
    """A speech engine for one language, loaded with its acoustic model."""

    #: Recorded in the version's provenance: engine name and version, model name.
    name: str
    version: str
    model: str
    language: str

    def known(self, key: str) -> bool:
        """Whether the pronouncing dictionary has this (normalised) word."""

    def prepare(self, sentences: Sequence[Sequence[str]]) -> None:
        """Load what is needed for these transcript words (dictionary, transcript language
        model for anchoring); called once before ``recognise``/``align``."""

    def recognise(self, pcm: np.ndarray, offset_ms: int) -> list[Heard]:
        """Words heard in ``pcm`` with the transcript's language model (for anchoring)."""

    def align(self, pcm: np.ndarray, offset_ms: int, keys: Sequence[str]) -> list[Heard] | None:
        """Forced alignment of ``keys`` to ``pcm``: every word, or only the first ones when
        the search reached no further (the caller continues from there); ``None`` when not
        even the first word is found."""

    def transcribe(self, pcm: np.ndarray, offset_ms: int) -> list[Heard]:
        """Large-vocabulary recognition: a machine draft with per-word confidence."""
