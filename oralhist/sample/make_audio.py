#!/usr/bin/env python3
"""Build the oralhist sample interview's audio and time-coded transcript.

Everything produced here is FICTIONAL and spoken by a speech synthesiser:
the people in the sample interview do not exist.

Reads  oralhist/sample/script.txt   (header + one line per spoken turn)
Writes oralhist/sample/interview.mp3   mono MP3, 22.05 kHz, 48 kbit/s CBR, ID3 tag
       oralhist/sample/transcript.vtt  WebVTT, one cue per sentence, <v Name> voice spans
       oralhist/sample/index.json      OHMS-style index points (start_ms at a turn start)
       oralhist/sample/passages.json   time ranges where the sample document is discussed

How it works: each turn is spoken to its own WAV by espeak-ng (one voice per
speaker); the exact length of each WAV is read with `sox --i -s` (samples);
the turns are joined by sox with a fixed pause between them, so every turn's
start and end time is known exactly. A turn's time is then split across its
sentences in proportion to their number of characters. That per-sentence split
is an APPROXIMATION (a synthetic voice does not speak every character at the
same rate); turn boundaries are exact to the sample. The MP3 is encoded by
sox (libsox-fmt-mp3 / LAME); ffmpeg is used only if this sox cannot write MP3.
Note that the MP3 encoder adds its usual small start delay (about 50 ms).

Same inputs and same tool versions give the same timings and files.

Requires the Debian packages espeak-ng, sox and libsox-fmt-all (or
libsox-fmt-mp3); ffmpeg only as a fallback encoder:
    apt-get install -y espeak-ng sox libsox-fmt-all
Standard-library Python only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent

RATE = 22050  # Hz; espeak-ng's native rate, also an MP3 rate
BITRATE_KBPS = 48
PAUSE_S = 0.6  # silence between turns
LEAD_IN_S = 0.5  # silence before the first turn
TAIL_S = 1.0  # silence after the last turn
MAX_MP3_BYTES = 2 * 1024 * 1024

# One espeak-ng voice per speaker label: (voice, words per minute, pitch 0-99).
# The interviewer (Dr. Ruth Adler) is a female variant with a US accent, the
# narrator (Thomas Whitfield) the default British English male voice, lower.
VOICES = {
    "INTERVIEWER": ("en-us+f3", 155, 55),
    "NARRATOR": ("en-gb", 145, 38),
}
ARTIST = "oralhist sample (synthetic voices)"
COMMENT = (
    "Fictional sample interview made with a speech synthesiser (espeak-ng) for the "
    "oralhist demonstration archive. None of the people in it are real."
)

ABBREVIATIONS = ("Dr.", "Mr.", "Mrs.", "Ms.", "St.", "No.")


class ScriptError(Exception):
    pass


@dataclass
class Turn:
    label: str
    text: str
    line: int
    index: dict | None = None
    passage: str | None = None
    # filled in after synthesis, in samples at RATE
    start: int = 0
    end: int = 0
    cues: list = field(default_factory=list)  # [(start_ms, end_ms, sentence)]


@dataclass
class Script:
    header: dict
    speakers: dict  # label -> display name
    turns: list


def parse_script(path: Path) -> Script:
    header: dict = {}
    speakers: dict = {}
    turns: list = []
    pending_index = None
    pending_passage = None
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            key, _, value = line[1:].partition(" ")
            if key == "speaker":
                label, _, name = value.strip().partition(" ")
                if not label or not name.strip():
                    raise ScriptError(f"{path}:{n}: '@speaker LABEL Display Name' expected")
                speakers[label] = name.strip()
            else:
                header[key] = value.strip()
            continue
        if line.startswith("%index "):
            parts = [p.strip() for p in line[len("%index ") :].split("|")]
            if len(parts) != 3 or not parts[0]:
                raise ScriptError(f"{path}:{n}: '%index Title | synopsis | kw, kw' expected")
            pending_index = {
                "title": parts[0],
                "synopsis": parts[1],
                "keywords": [k.strip() for k in parts[2].split(",") if k.strip()],
            }
            continue
        if line.startswith("%passage "):
            pending_passage = line[len("%passage ") :].strip()
            continue
        m = re.match(r"^([A-Z][A-Z0-9_]*):\s*(.+)$", line)
        if not m:
            raise ScriptError(f"{path}:{n}: expected 'LABEL: text', got {line[:40]!r}")
        label, text = m.groups()
        if label not in speakers:
            raise ScriptError(f"{path}:{n}: speaker {label!r} has no '@speaker' header line")
        if label not in VOICES:
            raise ScriptError(f"{path}:{n}: no espeak-ng voice configured for {label!r}")
        turns.append(Turn(label, text.strip(), n, pending_index, pending_passage))
        pending_index = pending_passage = None
    if not turns:
        raise ScriptError(f"{path}: no turns found")
    return Script(header, speakers, turns)


def split_sentences(text: str) -> list:
    """Split a turn into sentences at . ! ? followed by a space (not after Dr. etc.)."""
    out, start = [], 0
    for m in re.finditer(r"[.!?]+[\"')]*\s+", text):
        candidate = text[start : m.end()].strip()
        if any(candidate.endswith(a) for a in ABBREVIATIONS):
            continue
        out.append(candidate)
        start = m.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


def check_tools() -> str:
    """Return the MP3 encoder to use ('sox' or 'ffmpeg'); exit with advice if missing."""
    missing = [t for t in ("espeak-ng", "sox") if shutil.which(t) is None]
    if missing:
        sys.exit(
            f"make_audio.py: missing {', '.join(missing)}. Install the Debian packages:\n"
            "    apt-get install -y espeak-ng sox libsox-fmt-all"
        )
    helptext = subprocess.run(["sox", "-h"], capture_output=True, text=True).stdout
    lines = helptext.splitlines()
    formats = next((ln for ln in lines if ln.startswith("AUDIO FILE FORMATS")), "")
    if " mp3" in formats:
        return "sox"
    if shutil.which("ffmpeg"):
        return "ffmpeg"
    sys.exit(
        "make_audio.py: this sox cannot write MP3 and ffmpeg is not installed. Install:\n"
        "    apt-get install -y libsox-fmt-all   (or: apt-get install -y ffmpeg)"
    )


def run(cmd: list) -> str:
    if cmd[0] == "sox" and cmd[1] != "--i":
        # -R: sox's dither noise uses the same "random" numbers on every run
        cmd = ["sox", "-R", *cmd[1:]]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        command = " ".join(cmd)
        sys.exit(f"make_audio.py: command failed ({proc.returncode}): {command}\n{proc.stderr}")
    return proc.stdout


def samples_of(wav: Path) -> int:
    return int(run(["sox", "--i", "-s", str(wav)]).strip())


def ms(samples: int) -> int:
    return (samples * 1000 + RATE // 2) // RATE


def vtt_time(t_ms: int) -> str:
    h, rest = divmod(t_ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, milli = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{milli:03d}"


def vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def synthesise(script: Script, work: Path) -> Path:
    """Speak every turn, join them with pauses, fill in turn start/end; return the WAV."""
    norm_fmt = ["-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer"]
    pause = work / "pause.wav"
    run(["sox", "-n", *norm_fmt, str(pause), "trim", "0", f"{PAUSE_S}"])
    lead = work / "lead.wav"
    run(["sox", "-n", *norm_fmt, str(lead), "trim", "0", f"{LEAD_IN_S}"])
    tail = work / "tail.wav"
    run(["sox", "-n", *norm_fmt, str(tail), "trim", "0", f"{TAIL_S}"])

    parts = [lead]
    pos = samples_of(lead)
    pause_len = samples_of(pause)
    for i, turn in enumerate(script.turns):
        voice, wpm, pitch = VOICES[turn.label]
        txt = work / f"turn{i:03d}.txt"
        txt.write_text(turn.text + "\n", encoding="utf-8")
        raw = work / f"turn{i:03d}.raw.wav"
        run(
            [
                "espeak-ng",
                "-v",
                voice,
                "-s",
                str(wpm),
                "-p",
                str(pitch),
                "-w",
                str(raw),
                "-f",
                str(txt),
            ]
        )
        wav = work / f"turn{i:03d}.wav"
        # trim the synthesiser's own leading/trailing silence, same rate/format,
        # and bring both voices to the same peak level
        run(
            [
                "sox",
                str(raw),
                *norm_fmt,
                str(wav),
                "silence",
                "1",
                "0.02",
                "0.1%",
                "reverse",
                "silence",
                "1",
                "0.02",
                "0.1%",
                "reverse",
                "norm",
                "-3",
            ]
        )
        if i:
            parts.append(pause)
            pos += pause_len
        n = samples_of(wav)
        turn.start, turn.end = pos, pos + n
        pos += n
        parts.append(wav)
    parts.append(tail)
    out = work / "interview.wav"
    run(["sox", *map(str, parts), str(out)])
    total = samples_of(out)
    expected = pos + samples_of(tail)
    if total != expected:
        sys.exit(f"make_audio.py: joined length {total} != expected {expected} samples")
    return out


def make_cues(script: Script) -> None:
    """Split each turn's exact time across its sentences, in proportion to characters."""
    for turn in script.turns:
        sentences = split_sentences(turn.text)
        total_chars = sum(len(s) for s in sentences)
        dur = turn.end - turn.start
        acc = 0
        for s in sentences:
            a = turn.start + dur * acc // total_chars
            acc += len(s)
            b = turn.start + dur * acc // total_chars
            turn.cues.append((ms(a), ms(b), s))


def encode_mp3(wav: Path, mp3: Path, script: Script, encoder: str) -> None:
    title = script.header.get("title", "oralhist sample interview")
    album = script.header.get("collection", "")
    date = script.header.get("date", "")
    tmp = mp3.with_suffix(".mp3.part")
    if encoder == "sox":
        run(
            [
                "sox",
                str(wav),
                "-r",
                str(RATE),
                "-c",
                "1",
                "-C",
                str(BITRATE_KBPS),
                "--comment",
                f"Title={title}",
                "--add-comment",
                f"Artist={ARTIST}",
                "--add-comment",
                f"Album={album}",
                "--add-comment",
                f"Year={date}",
                "--add-comment",
                f"Comment={COMMENT}",
                "-t",
                "mp3",
                str(tmp),
            ]
        )
    else:
        run(
            [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(wav),
                "-ac",
                "1",
                "-ar",
                str(RATE),
                "-c:a",
                "libmp3lame",
                "-b:a",
                f"{BITRATE_KBPS}k",
                "-fflags",
                "+bitexact",
                "-flags:a",
                "+bitexact",
                "-metadata",
                f"title={title}",
                "-metadata",
                f"artist={ARTIST}",
                "-metadata",
                f"album={album}",
                "-metadata",
                f"date={date}",
                "-metadata",
                f"comment={COMMENT}",
                "-id3v2_version",
                "3",
                "-f",
                "mp3",
                str(tmp),
            ]
        )
    size = tmp.stat().st_size
    if size >= MAX_MP3_BYTES:
        tmp.unlink()
        sys.exit(f"make_audio.py: MP3 is {size} bytes, over the 2 MB limit; shorten script.txt")
    os.replace(tmp, mp3)


def write_vtt(script: Script, path: Path) -> int:
    lines = [
        "WEBVTT",
        "",
        "NOTE",
        "Fictional sample interview for the oralhist demonstration archive, spoken by",
        "synthetic voices (espeak-ng). None of the people in it are real. Generated by",
        "oralhist/sample/make_audio.py from script.txt. Turn boundaries are exact;",
        "sentence times within a turn are an approximation (split by characters).",
        "",
    ]
    n = 0
    for turn in script.turns:
        name = script.speakers[turn.label]
        for a, b, sentence in turn.cues:
            n += 1
            lines += [
                str(n),
                f"{vtt_time(a)} --> {vtt_time(b)}",
                f"<v {name}>{vtt_escape(sentence)}</v>",
                "",
            ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return n


def partial_transcript(turn: Turn, script: Script, limit: int = 160) -> str:
    out = ""
    for s in split_sentences(turn.text):
        candidate = (out + " " + s).strip()
        if out and len(candidate) > limit:
            break
        out = candidate
    return f"{script.speakers[turn.label]}: {out}"


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] + " (fictional, synthetic voices)",
        epilog=(
            "Reads script.txt next to this file and (re)writes interview.mp3, transcript.vtt, "
            "index.json and passages.json there. Deterministic: same script and tool "
            "versions give the same timings. Needs the Debian packages espeak-ng, sox and "
            "libsox-fmt-all (ffmpeg only if sox cannot write MP3). Sentence-level cue times "
            "inside a turn are split by characters, an approximation; turn times are exact."
        ),
    )
    parser.add_argument(
        "--script",
        type=Path,
        default=HERE / "script.txt",
        help="dialogue script (default: %(default)s)",
    )
    parser.add_argument(
        "--out", type=Path, default=HERE, help="output folder (default: %(default)s)"
    )
    parser.add_argument(
        "--keep-wav",
        action="store_true",
        help="also keep the uncompressed interview.wav in the output folder",
    )
    args = parser.parse_args(argv)

    try:
        script = parse_script(args.script)
    except (OSError, ScriptError) as exc:
        sys.exit(f"make_audio.py: {exc}")
    encoder = check_tools()
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="oralhist-sample-") as tmp:
        work = Path(tmp)
        wav = synthesise(script, work)
        make_cues(script)
        encode_mp3(wav, args.out / "interview.mp3", script, encoder)
        if args.keep_wav:
            shutil.copyfile(wav, args.out / "interview.wav")
        total_ms = ms(samples_of(wav))

    n_cues = write_vtt(script, args.out / "transcript.vtt")

    index = [
        {
            "start_ms": ms(t.start),
            "title": t.index["title"],
            "synopsis": t.index["synopsis"],
            "keywords": t.index["keywords"],
            "partial_transcript": partial_transcript(t, script),
        }
        for t in script.turns
        if t.index
    ]
    write_json(args.out / "index.json", index)

    passages = [
        {"start_ms": t.cues[0][0], "end_ms": t.cues[-1][1], "note": t.passage}
        for t in script.turns
        if t.passage
    ]
    write_json(args.out / "passages.json", passages)

    print(
        f"interview.mp3: {total_ms} ms, {(args.out / 'interview.mp3').stat().st_size} bytes "
        f"(encoder: {encoder})"
    )
    print(f"transcript.vtt: {n_cues} cues from {len(script.turns)} turns")
    for p in index:
        print(f"index {vtt_time(p['start_ms'])}  {p['title']}")
    for p in passages:
        print(f"passage {vtt_time(p['start_ms'])}-{vtt_time(p['end_ms'])}  {p['note']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
