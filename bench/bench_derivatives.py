"""Derivatives benchmark: the access copy and the waveform of a long WAV master.

Generates a WAV master (default: 100 minutes, 48 kHz, 24-bit stereo: the 1.7 GB master of
DESIGN.md) with numpy, in one-minute chunks of speech-like sound (tones under a syllable-rate
envelope, with pauses, and noise), and a 10-minute one the same way; then runs each recipe
(``media/recipes.py``: MP3 access copy, audiowaveform peaks) in a child process of its own and
reports wall and CPU time, real-time factors, output size and the child's peak RSS (VmHWM).
The two lengths show whether memory grows with the file (it must not: decoding and encoding
stream).

    python bench/bench_derivatives.py [--minutes 100] [--short-minutes 10] [--bits 24]
        [--channels 2] [--keep]

Nothing is committed: the masters are made in a temporary folder and removed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
RATE = 48_000

CHILD = r"""
import json, sys, tempfile, time
def peak_mb():
    # VmHWM: this process's own peak (ru_maxrss would carry the parent's over the exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
from pathlib import Path
from oralhist.media import derivatives, recipes  # noqa: F401  (registers the recipes)
kind, source, duration_ms = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
with tempfile.TemporaryDirectory() as work:
    start, cpu = time.perf_counter(), time.process_time()
    made = derivatives.RECIPES[kind].make(derivatives.Making(
        recording_id=0, source=source, name=source.name, duration_ms=duration_ms,
        params={}, workdir=Path(work)))
    seconds = time.perf_counter() - start
    import resource
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the second process of an MP3
    print(json.dumps({
        "seconds": seconds,
        "cpu_seconds": round(time.process_time() - cpu + kids.ru_utime + kids.ru_stime, 2),
        "child_process_cpu_seconds": round(kids.ru_utime + kids.ru_stime, 2),
        "child_process_peak_rss_mb": round(kids.ru_maxrss / 1024, 1),
        "size": made.path.stat().st_size,
        "duration_ms": made.duration_ms,
        "peak_rss_mb": peak_mb(),
        "made_with": made.made_with,
    }))
"""


def write_master(path: Path, minutes: int, *, bits: int, channels: int) -> int:
    """A speech-like WAV master, written a minute at a time; returns its duration in ms."""
    rng = np.random.default_rng(1957)
    scale = 2 ** (bits - 1) - 1
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(bits // 8)
        out.setframerate(RATE)
        t = np.arange(RATE * 60) / RATE
        for minute in range(minutes):
            pitch = 110 + 40 * np.sin(2 * np.pi * 0.05 * (t + minute * 60))
            voice = np.sin(2 * np.pi * np.cumsum(pitch) / RATE)
            voice += 0.3 * np.sin(4 * np.pi * np.cumsum(pitch) / RATE)
            syllables = np.clip(np.sin(2 * np.pi * 4 * t), 0, None)  # ~4 syllables a second
            pauses = (np.sin(2 * np.pi * t / 7 + minute) > -0.6).astype(float)  # a breath
            signal = 0.4 * voice * syllables * pauses + 0.01 * rng.standard_normal(len(t))
            samples = np.clip(signal * scale, -scale, scale).astype(np.int32)
            frames = np.repeat(samples[:, None], channels, axis=1).reshape(-1)
            if bits == 24:
                raw = frames.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
            else:
                raw = frames.astype("<i2").tobytes()
            out.writeframes(raw)
    return minutes * 60_000


def run(kind: str, master: Path, duration_ms: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(master), str(duration_ms)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["realtime_x"] = round(duration_ms / 1000 / figures["seconds"], 1)
    # On a shared machine the wall time depends on the other processes; CPU time does not.
    figures["realtime_x_cpu"] = round(duration_ms / 1000 / max(figures["cpu_seconds"], 1e-3), 1)
    figures["seconds"] = round(figures["seconds"], 2)
    figures["peak_rss_mb"] = round(figures["peak_rss_mb"], 1)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=100)
    parser.add_argument("--short-minutes", type=int, default=10)
    parser.add_argument("--bits", type=int, choices=(16, 24), default=24)
    parser.add_argument("--channels", type=int, choices=(1, 2), default=2)
    parser.add_argument("--keep", action="store_true", help="Keep the generated masters.")
    args = parser.parse_args()
    data = HERE / "data"  # git-ignored
    data.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="oh-bench-derivatives-", dir=data))
    report: dict = {
        "load_average_before": os.getloadavg(),
        "master": {"rate": RATE, "bits": args.bits, "channels": args.channels},
        "runs": {},
    }
    try:
        for minutes in (args.short_minutes, args.minutes):
            master = folder / f"master-{minutes}min.wav"
            start = time.perf_counter()
            duration_ms = write_master(master, minutes, bits=args.bits, channels=args.channels)
            made_in = time.perf_counter() - start
            entry = {
                "master_bytes": master.stat().st_size,
                "master_generated_s": round(made_in, 1),
            }
            for kind in ("access", "waveform"):
                entry[kind] = run(kind, master, duration_ms)
                print(f"{minutes} min {kind}: {entry[kind]}", flush=True)
            report["runs"][f"{minutes}min"] = entry
            if not args.keep:
                master.unlink()
    finally:
        if not args.keep:
            for leftover in folder.glob("*"):
                leftover.unlink()
            folder.rmdir()
    report["load_average_after"] = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "derivatives.json"
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
