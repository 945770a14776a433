"""Speech synthesis with eSpeak NG, for aeneas-style anchoring (``oralhist.align.dtw``).

The library and its data (over a hundred languages) come in the ``espeakng-loader`` wheel, so
neither a Debian package nor a binary is needed; the few calls of eSpeak NG's C API used here
are made through ``ctypes``. Synthesis runs in the calling process, one text at a time (the
library holds global state: a lock serialises callers).
"""

from __future__ import annotations

import ctypes
import functools
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EE_OK = 0
_RATE = 1
#: eSpeak NG's default speaking rate, words a minute.
DEFAULT_RATE = 175
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)
_lock = threading.Lock()


class _Library:
    """The loaded library, initialised once for synchronous synthesis into a buffer."""

    def __init__(self) -> None:
        import espeakng_loader

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_Initialize.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        self.lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetVoiceByName.restype = ctypes.c_int
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        self.lib.espeak_Synth.restype = ctypes.c_int
        self.lib.espeak_Synchronize.restype = ctypes.c_int
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_SetParameter.restype = ctypes.c_int
        data = espeakng_loader.get_data_path().encode()
        self.rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0)
        if self.rate <= 0:
            raise RuntimeError("eSpeak NG could not be initialised")
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)  # kept referenced: C holds the pointer
        self.lib.espeak_SetSynthCallback(self._callback)
        self.voice: str | None = None

    def _collect(self, wav, count, _events) -> int:
        if wav and count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def set_voice(self, voice: str) -> bool:
        if voice == self.voice:
            return True
        if self.lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
            return False
        self.voice = voice
        return True

    def synth(self, text: str) -> np.ndarray:
        self._chunks = []
        data = text.encode("utf-8") + b"\0"
        status = self.lib.espeak_Synth(
            data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        if status != _EE_OK:
            raise RuntimeError(f"eSpeak NG could not synthesise the text (error {status})")
        self.lib.espeak_Synchronize()
        if not self._chunks:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(self._chunks).astype(np.int16)


@functools.cache
def _library() -> _Library:
    return _Library()


def voice_for(language: str) -> str | None:
    """The eSpeak NG voice for a language code (``cy``, ``en-GB``, ``pt_BR``), or ``None``
    when eSpeak NG does not speak it. The full code is tried first, then its base."""
    code = (language or "").replace("_", "-").lower()
    candidates = [code, code.split("-")[0]] if code else []
    with _lock:
        lib = _library()
        for candidate in dict.fromkeys(candidates):
            if candidate and lib.set_voice(candidate):
                return candidate
    return None


def version() -> str:
    """The ``espeakng-loader`` package version (recorded in provenance)."""
    from importlib import metadata

    return metadata.version("espeakng-loader")


@dataclass
class Synthesis:
    """The transcript spoken: samples at ``rate`` and where each text begins and ends in them."""

    samples: np.ndarray
    rate: int
    #: (start sample, end sample) of each text, in order.
    spans: list[tuple[int, int]]


def synthesise(texts: Sequence[str], voice: str, *, rate: int = DEFAULT_RATE) -> Synthesis:
    """Speak every text with ``voice`` at ``rate`` words a minute, one after another: each
    text is synthesised on its own, so where it begins in the result is known exactly (aeneas
    does the same)."""
    pieces: list[np.ndarray] = []
    spans: list[tuple[int, int]] = []
    at = 0
    with _lock:
        lib = _library()
        if not lib.set_voice(voice):
            raise ValueError(f"eSpeak NG has no voice {voice!r}")
        lib.lib.espeak_SetParameter(_RATE, rate, 0)
        try:
            for text in texts:
                wav = lib.synth(text) if text.strip() else np.zeros(0, dtype=np.int16)
                pieces.append(wav)
                spans.append((at, at + len(wav)))
                at += len(wav)
        finally:
            lib.lib.espeak_SetParameter(_RATE, DEFAULT_RATE, 0)
        sample_rate = lib.rate
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
    return Synthesis(samples, sample_rate, spans)
