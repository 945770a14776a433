"""The alignment evaluation set: synthetic interviews with exact ground truth (issue 14).

Generated, never hand-timed, and reproducible (fixed seed; same espeak-ng gives the same
audio): oral-history-like paragraphs (a turn each, interviewer and narrator alternating) from
a seeded grammar, each spoken by espeak-ng with one of several voices and speaking rates,
joined with pauses of 0.3-3 s and now and then a long one (8-15 s), into parts of about ten
minutes, with background noise added to alternate parts (white noise at 20 dB and 30 dB SNR).
Each paragraph's true start is its speech onset: the first sample above the synthesiser's
silence in its own WAV, placed at a known sample of the part (exact to the sample, well
within the 10 ms asked).

Variants share the audio and change only the transcript: ``missing`` drops a paragraph that
is spoken, ``extra`` adds one that is not, ``swapped`` exchanges two answers.

    python bench/align_evalset.py [--minutes 30] [--out /tmp/oralhist-align-eval]

Writes ``partN.wav`` (16 kHz mono), ``truth.json`` (parts, paragraphs with part, start and
end ms on the interview timeline, voice, rate) and ``variants.json``. Needs espeak-ng
(Debian package ``espeak-ng``); numpy.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

RATE = 16000
VOICES = ["en-us", "en-gb", "en-us+f3", "en-gb-scotland", "en+m3", "en-gb-x-rp", "en-us+f2"]
RATES = [130, 145, 160, 175, 190]

PLACES = [
    "the mill",
    "the river",
    "the market square",
    "the railway yard",
    "the chapel",
    "the school",
    "the factory",
    "the union hall",
    "the bakery",
    "the harbour",
    "the allotments",
    "the coal pit",
    "the hospital",
    "the post office",
    "the park",
]
PEOPLE = [
    "my father",
    "my mother",
    "my uncle",
    "my grandmother",
    "the foreman",
    "our teacher",
    "the minister",
    "my older brother",
    "the shop steward",
    "our neighbour",
    "my aunt",
]
VERBS = [
    "worked at",
    "walked to",
    "talked about",
    "remembered",
    "waited outside",
    "cleaned",
    "painted",
    "visited",
    "left",
    "built",
    "looked after",
    "closed",
]
TIMES = [
    "in the winter",
    "every Sunday",
    "after the war",
    "before the strike",
    "in those years",
    "on Saturday mornings",
    "when I was young",
    "during the summer",
    "late at night",
    "in the spring",
    "for many years",
    "the next morning",
]
FEELINGS = [
    "it was hard",
    "we were happy",
    "nobody spoke about it",
    "it felt like home",
    "we had very little money",
    "everyone knew everyone",
    "it changed everything",
    "I was frightened",
    "we laughed a lot",
    "the work was heavy",
]
QUESTIONS = [
    "What do you remember about {p}?",
    "Who worked at {p} with you?",
    "How did people feel about {p} in those days?",
    "Can you tell me about {w}?",
    "What happened after that?",
    "Where did your family live then?",
    "Why did {w} leave {p}?",
    "What was a normal day like?",
]


def sentence(rng: random.Random) -> str:
    who, place, verb, when = (rng.choice(x) for x in (PEOPLE, PLACES, VERBS, TIMES))
    shape = rng.randrange(4)
    if shape == 0:
        return f"{when.capitalize()}, {who} {verb} {place}."
    if shape == 1:
        return f"{who.capitalize()} {verb} {place} {when}, and {rng.choice(FEELINGS)}."
    if shape == 2:
        return f"I think {rng.choice(FEELINGS)}, because {who} {verb} {place}."
    return f"We {rng.choice(VERBS)} {place} {when}."


def paragraphs(rng: random.Random, count: int) -> list[tuple[str, str]]:
    out = []
    for i in range(count):
        if i % 2 == 0:
            q = rng.choice(QUESTIONS).format(p=rng.choice(PLACES), w=rng.choice(PEOPLE))
            out.append(("INTERVIEWER", q))
        else:
            out.append(("NARRATOR", " ".join(sentence(rng) for _ in range(rng.randint(2, 6)))))
    return out


def speak(text: str, voice: str, wpm: int) -> np.ndarray:
    data = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(wpm), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    with wave.open(io.BytesIO(data)) as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64)
    # to 16 kHz (linear interpolation is enough for a synthetic voice's band)
    positions = np.arange(0, len(pcm) * RATE / rate) * rate / RATE
    return np.interp(positions, np.arange(len(pcm)), pcm)


def onset(pcm: np.ndarray, threshold: float = 300.0) -> tuple[int, int]:
    """First and last sample above the synthesiser's silence."""
    loud = np.nonzero(np.abs(pcm) > threshold)[0]
    return (int(loud[0]), int(loud[-1]) + 1) if len(loud) else (0, len(pcm))


def write_wav(path: Path, pcm: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.clip(pcm, -32768, 32767).astype(np.int16).tobytes())


def build(out: Path, minutes: float, part_minutes: float, seed: int) -> dict:
    rng = random.Random(seed)
    noise_rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    target = minutes * 60 * RATE
    items, parts = [], []
    part_pcm: list[np.ndarray] = []
    part_len = 0
    offset_ms = 0
    index = 0

    def close_part():
        nonlocal part_pcm, part_len, offset_ms
        pcm = np.concatenate(part_pcm)
        number = len(parts)
        snr = (None, 30.0, None, 20.0)[number % 4]
        if snr is not None:
            speech = np.sqrt(np.mean(pcm[np.abs(pcm) > 300] ** 2))
            pcm = pcm + noise_rng.normal(0, speech / (10 ** (snr / 20)), len(pcm))
        name = f"part{number + 1}.wav"
        write_wav(out / name, pcm)
        duration = len(pcm) * 1000 // RATE
        parts.append({"file": name, "offset_ms": offset_ms, "duration_ms": duration, "snr_db": snr})
        offset_ms += duration
        part_pcm, part_len = [], 0

    total = 0
    while total < target:
        for label, text in paragraphs(rng, 2):
            voice = VOICES[0 if label == "INTERVIEWER" else 1 + index % (len(VOICES) - 1)]
            wpm = rng.choice(RATES)
            pcm = speak(text, voice, wpm)
            first, last = onset(pcm)
            pause = rng.uniform(8, 15) if rng.random() < 0.05 else rng.uniform(0.3, 3.0)
            gap = np.zeros(int(pause * RATE))
            start = part_len + len(gap) + first
            items.append(
                {
                    "label": label,
                    "text": text,
                    "voice": voice,
                    "wpm": wpm,
                    "part": len(parts),
                    "start_ms": offset_ms + start * 1000 // RATE,
                    "end_ms": offset_ms + (part_len + len(gap) + last) * 1000 // RATE,
                }
            )
            part_pcm += [gap, pcm]
            part_len += len(gap) + len(pcm)
            total += len(gap) + len(pcm)
            index += 1
        if part_len >= part_minutes * 60 * RATE:
            close_part()
    if part_len:
        close_part()
    spoken = list(range(len(items)))
    narrator = [i for i in spoken if items[i]["label"] == "NARRATOR"]
    missing = narrator[len(narrator) // 3]
    a, b = narrator[len(narrator) // 2], narrator[len(narrator) // 2 + 1]
    extra_text = " ".join(sentence(random.Random(seed + 1)) for _ in range(4))
    variants = {
        "full": {"order": spoken},
        "missing": {"order": [i for i in spoken if i != missing], "missing": missing},
        "extra": {
            "order": spoken,
            "extra_after": narrator[2 * len(narrator) // 3],
            "extra_text": extra_text,
        },
        "swapped": {
            "order": [b if i == a else a if i == b else i for i in spoken],
            "swapped": [a, b],
        },
    }
    truth = {"seed": seed, "rate": RATE, "parts": parts, "paragraphs": items}
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    (out / "variants.json").write_text(json.dumps(variants, indent=1))
    return truth


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--part-minutes", type=float, default=10)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--out", type=Path, default=Path("/tmp/oralhist-align-eval"))
    args = parser.parse_args(argv)
    truth = build(args.out, args.minutes, args.part_minutes, args.seed)
    total = sum(p["duration_ms"] for p in truth["parts"]) / 60000
    print(
        f"{args.out}: {len(truth['parts'])} parts, {total:.1f} min, "
        f"{len(truth['paragraphs'])} paragraphs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
