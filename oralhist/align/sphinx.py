"""PocketSphinx 5 (``pocketsphinx`` on PyPI): the shipped engine.

The US-English acoustic model, dictionary (CMUdict) and language model come inside the wheel.
An operator adds another language with ``ALIGN_MODELS = {"cy": "/srv/models/cy"}``: a folder
holding a PocketSphinx acoustic model (``mdef``, ``means``...), a ``*.dict`` pronouncing
dictionary and, for transcription, a ``*.lm.bin`` or ``*.lm`` language model. Other languages
are never aligned with the English model.

The full dictionary takes seconds to load; alignment loads only the transcript's own words.
"""

from __future__ import annotations

import functools
import io
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from .anchoring import Heard

#: Frames a second of PocketSphinx's default front end.
FRAME_MS = 10
#: Recognition for anchoring runs on windows this long (its search grows with the utterance).
RECOGNISE_WINDOW_MS = 30_000
_FILLERS = {"<s>", "</s>", "<sil>", "[NOISE]", "<unk>"}


@dataclass(frozen=True)
class AcousticModel:
    """Where a language's model lives."""

    language: str
    name: str
    hmm: Path
    dictionary: Path
    lm: Path | None


def _base(language: str) -> str:
    return (language or "").split("-")[0].split("_")[0].lower()


def find_model(language: str, configured: Mapping[str, str] | None = None) -> AcousticModel | None:
    """The acoustic model for ``language`` (``en``, ``en-GB``, ``cy``), or ``None``: the
    configured folder for it, else the English model in the wheel for English only."""
    base = _base(language)
    for lang, folder in (configured or {}).items():
        if _base(lang) == base:
            root = Path(folder)
            dicts = sorted(root.glob("*.dict"))
            lms = sorted(root.glob("*.lm.bin")) + sorted(root.glob("*.lm"))
            hmm = (
                root
                if (root / "mdef").exists()
                else next((p.parent for p in root.rglob("mdef")), root)
            )
            if not dicts:
                return None
            return AcousticModel(base, root.name, hmm, dicts[0], lms[0] if lms else None)
    if base != "en":
        return None
    from pocketsphinx import get_model_path

    root = Path(get_model_path()) / "en-us"
    return AcousticModel(
        "en",
        "cmusphinx en-us 5.2",
        root / "en-us",
        root / "cmudict-en-us.dict",
        root / "en-us.lm.bin",
    )


@functools.lru_cache(maxsize=4)
def _pronunciations(path: Path) -> dict[str, list[str]]:
    """word -> its dictionary lines (variants ``word(2)`` kept as written)."""
    table: dict[str, list[str]] = {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            head, _, _ = line.partition(" ")
            if not head:
                continue
            word = head.split("(")[0]
            table.setdefault(word, []).append(line.rstrip("\n"))
    return table


def _strip_variant(word: str) -> str:
    return word.split("(")[0]


class PocketSphinx:
    """The PocketSphinx engine for one acoustic model (see ``Engine``)."""

    name = "pocketsphinx"

    def __init__(self, model: AcousticModel, *, beam: float = 1e-60) -> None:
        self.model_info = model
        self.model = model.name
        self.language = model.language
        self.version = metadata.version("pocketsphinx")
        self.beam = beam
        self._dir = tempfile.TemporaryDirectory(prefix="oralhist-align-")
        #: The transcript's dictionary and language model, written by ``prepare``.
        self._dict_path: str | None = None
        self._lm_path: str | None = None
        self._aligner = None
        self._recogniser = None
        self._transcriber = None

    def close(self) -> None:
        self._dir.cleanup()

    def __enter__(self) -> PocketSphinx:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def settings(self) -> dict:
        return {"beam": self.beam, "recognise_window_ms": RECOGNISE_WINDOW_MS}

    def known(self, key: str) -> bool:
        return key in _pronunciations(self.model_info.dictionary)

    def _decoder(self, **config):
        from pocketsphinx import Decoder

        return Decoder(hmm=str(self.model_info.hmm), samprate=16000, loglevel="FATAL", **config)

    def prepare(self, sentences: Sequence[Sequence[str]]) -> None:
        from pocketsphinx.lm import ArpaBoLM

        table = _pronunciations(self.model_info.dictionary)
        words = sorted({k for sentence in sentences for k in sentence if k in table})
        dict_path = os.path.join(self._dir.name, "transcript.dict")
        with open(dict_path, "w", encoding="utf-8") as handle:
            for word in words:
                handle.write("\n".join(table[word]) + "\n")
        text = "\n".join(" ".join(k for k in s if k in table) for s in sentences) + "\n"
        lm = ArpaBoLM(text=text, add_start=True)
        lm.compute()
        buffer = io.StringIO()
        lm.write(buffer)
        lm_path = os.path.join(self._dir.name, "transcript.arpa")
        with open(lm_path, "w", encoding="utf-8") as handle:
            handle.write(buffer.getvalue())
        self._dict_path, self._lm_path = dict_path, lm_path
        self._aligner = self._recogniser = None  # made again, for these words

    def remote(self) -> tuple[Callable[..., PocketSphinx], tuple]:
        """How another process makes this engine, prepared (``parallel``): a function and
        its arguments. The other process reads the files ``prepare`` wrote here (keep this
        engine open meanwhile), not the whole pronouncing dictionary."""
        assert self._dict_path is not None, "prepare() first"
        return _prepared, (self.model_info, self.beam, self._dict_path, self._lm_path)

    @property
    def aligner(self):
        """The forced-alignment decoder (made on first use: the acoustic model is tens of
        megabytes, and a process that hands its work to others never needs it)."""
        assert self._dict_path is not None, "prepare() first"
        if self._aligner is None:
            self._aligner = self._decoder(
                dict=self._dict_path, beam=self.beam, wbeam=self.beam * 1e20
            )
        return self._aligner

    @property
    def recogniser(self):
        """The decoder with the transcript's language model (for anchoring)."""
        assert self._dict_path is not None, "prepare() first"
        if self._recogniser is None:
            self._recogniser = self._decoder(dict=self._dict_path, lm=self._lm_path)
        return self._recogniser

    @staticmethod
    def _utterance(decoder, pcm: np.ndarray) -> None:
        """Decode ``pcm`` as one utterance from a fresh front end.

        PocketSphinx carries state from one utterance to the next (the noise estimate of its
        noise removal, the cepstral mean): the same audio then aligns differently after
        different audio. Reset, each utterance's result depends on its samples alone, so
        stretches can be aligned in any order, on any number of processes, with the same
        result (``parallel``)."""
        decoder.reinit_feat()
        decoder.start_utt()
        decoder.process_raw(pcm.tobytes(), full_utt=True)
        decoder.end_utt()

    @staticmethod
    def _heard(decoder, offset_ms: int) -> list[Heard]:
        heard = []
        for seg in decoder.seg() or ():  # None: nothing heard (no path)
            word = _strip_variant(seg.word)
            if word in _FILLERS or word.startswith("+") or word.startswith("["):
                continue
            heard.append(
                Heard(
                    word,
                    offset_ms + seg.start_frame * FRAME_MS,
                    offset_ms + (seg.end_frame + 1) * FRAME_MS,
                    round(min(1.0, max(0.0, float(seg.prob))), 3),
                )
            )
        return heard

    def recognise(self, pcm: np.ndarray, offset_ms: int) -> list[Heard]:
        return self._run_windows(self.recogniser, pcm, offset_ms)

    def _run_windows(self, decoder, pcm: np.ndarray, offset_ms: int) -> list[Heard]:
        heard: list[Heard] = []
        step = RECOGNISE_WINDOW_MS * 16
        for start in range(0, len(pcm), step):
            chunk = pcm[start : start + step]
            if len(chunk) < 1600:
                continue
            self._utterance(decoder, chunk)
            heard.extend(self._heard(decoder, offset_ms + start // 16))
        return heard

    def align(self, pcm: np.ndarray, offset_ms: int, keys: Sequence[str]) -> list[Heard] | None:
        if not keys or len(pcm) < 1600:
            return None
        aligner = self.aligner
        try:
            aligner.set_align_text(" ".join(keys))
            self._utterance(aligner, pcm)
            heard = self._heard(aligner, offset_ms)
        except (RuntimeError, TypeError):  # no path through the words: seg() is None
            return None
        if not heard or [h.key for h in heard] != list(keys[: len(heard)]):
            return None
        return heard  # all the words, or the first ones when the path ends early

    def transcribe(self, pcm: np.ndarray, offset_ms: int) -> list[Heard]:
        if self._transcriber is None:
            lm = self.model_info.lm
            config = {"dict": str(self.model_info.dictionary)}
            if lm is not None:
                config["lm"] = str(lm)
            self._transcriber = self._decoder(**config)
        return self._run_windows(self._transcriber, pcm, offset_ms)


def _prepared(
    model: AcousticModel, beam: float, dict_path: str, lm_path: str | None
) -> PocketSphinx:
    """An engine for files another engine's ``prepare`` wrote (see ``remote``)."""
    engine = PocketSphinx(model, beam=beam)
    engine._dict_path, engine._lm_path = dict_path, lm_path
    return engine


#: Names for the messages that say which level was reached (the code otherwise).
LANGUAGE_NAMES = {
    "cy": "Welsh",
    "de": "German",
    "es": "Spanish",
    "fr": "French",
    "ga": "Irish",
    "gd": "Scottish Gaelic",
    "it": "Italian",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "yi": "Yiddish",
    "zh": "Chinese",
    "ar": "Arabic",
    "he": "Hebrew",
    "yo": "Yoruba",
}


def language_name(language: str) -> str:
    base = _base(language)
    return LANGUAGE_NAMES.get(base, base or "an unstated language")
