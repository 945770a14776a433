#!/usr/bin/env python3
"""Build the sample interview with an UNTIMED transcript (fictional, synthetic voices).

Reads  oralhist/sample/untimed_script.txt
Writes oralhist/sample/untimed.mp3             the audio (same voices and encoder as make_audio.py)
       oralhist/sample/untimed_transcript.txt  plain text, one "NAME: text" paragraph per turn,
                                               no time codes: the thing to align
       oralhist/sample/untimed_truth.json      each turn's exact start/end (ms), from the
                                               synthesis: the answer an alignment is checked
                                               against (tests, bench)

Uses make_audio.py's synthesis (espeak-ng per turn, sox joins with fixed pauses, so turn
times are exact to the sample; the MP3 encoder adds its usual ~50 ms start delay). Needs the
Debian packages espeak-ng, sox and libsox-fmt-all. Standard-library Python only.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import make_audio  # noqa: E402  (this folder's script, not a package module)


def main() -> int:
    script = make_audio.parse_script(HERE / "untimed_script.txt")
    encoder = make_audio.check_tools()
    with tempfile.TemporaryDirectory(prefix="oralhist-untimed-") as tmp:
        wav = make_audio.synthesise(script, Path(tmp))
        make_audio.encode_mp3(wav, HERE / "untimed.mp3", script, encoder)
        total = make_audio.ms(make_audio.samples_of(wav))
    names = {label: name.split()[-1].upper() for label, name in script.speakers.items()}
    lines = [f"{names[t.label]}: {t.text}" for t in script.turns]
    (HERE / "untimed_transcript.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    truth = {
        "duration_ms": total,
        "turns": [
            {"start_ms": make_audio.ms(t.start), "end_ms": make_audio.ms(t.end), "text": t.text}
            for t in script.turns
        ],
    }
    (HERE / "untimed_truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    print(f"untimed.mp3: {total / 1000:.1f} s, {len(script.turns)} turns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
