"""Forced alignment and offline transcription against the evaluation set (issue 14).

Aligns each variant of the set (``align_evalset.py``: ``full``, ``missing``, ``extra``,
``swapped``) in a child process of its own, and reports:

- segment start error on the matched part (aligned paragraphs that are spoken): median, p95
  (goal: <= 100 ms, <= 300 ms);
- mismatches: the missing paragraph flagged as speech not in the transcript, the extra one as
  not heard, the swapped pair (goal: every one flagged), and the share of correctly
  transcribed words marked unaligned (goal: <= 2 %);
- speed in x real time (goal: >= 20x on 2 cores) and the child's peak RSS (goal: < 600 MB);
- the same on the real JFK recording (word starts against its energy onsets);
- transcription: word error rate and real-time factor on JFK and on the first minutes of
  the set.

    python bench/align_evalset.py --minutes 30          # once
    python bench/bench_align.py [--set /tmp/oralhist-align-eval] [--variants full,missing]

Writes bench/results/align.json. The machine's load average is recorded: on a shared VM the
times vary with what else runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

RESULTS = HERE / "results"
JFK = HERE.parent.parent / "shared" / "testdata" / "jfk-speech" / "jfk.wav"
JFK_TEXT = (
    "And so, my fellow Americans: ask not what your country can do for you, "
    "ask what you can do for your country."
)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def words(text: str) -> list[str]:
    return [w for w in re.sub(r"[^\w' ]+", " ", text.lower()).split() if w]


def wer(reference: list[str], hypothesis: list[str]) -> float:
    previous = list(range(len(hypothesis) + 1))
    for i, r in enumerate(reference, 1):
        current = [i]
        for j, h in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / max(1, len(reference))


def _engine():
    from oralhist.align import sphinx

    return sphinx.PocketSphinx(sphinx.find_model("en"))


class TreeSampler:
    """Every ``interval`` s: the summed RSS of this process and its children (the alignment's
    worker processes), its peak, and each child's CPU time (from /proc, stdlib only)."""

    def __init__(self, interval: float = 0.2) -> None:
        import threading

        self.interval = interval
        self.peak_kb = 0
        self.cpu: dict[int, float] = {}
        self.peak_child_kb: dict[int, int] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        from _server import rss_kb, tree_of

        tick = os.sysconf("SC_CLK_TCK")
        me = os.getpid()
        while not self.done.wait(self.interval):
            total = 0
            for pid in tree_of(me):
                kb = rss_kb("VmRSS", pid)
                total += kb
                if pid == me:
                    continue
                self.peak_child_kb[pid] = max(self.peak_child_kb.get(pid, 0), kb)
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    self.cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
                except (OSError, IndexError, ValueError):
                    pass
            self.peak_kb = max(self.peak_kb, total)

    def __enter__(self) -> TreeSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()


def run_variant(folder: Path, name: str, method: str = "sphinx", processes: int = 1) -> dict:
    """One variant, in this (child) process, with ``method``: ``sphinx`` (Gentle-style
    anchoring with PocketSphinx), ``dtw`` (aeneas-style, segment times only) or ``dtw+sphinx``
    (the DTW's segment times make PocketSphinx's job smaller)."""
    from oralhist.align import audio, pipeline
    from oralhist.align import segments as segment_level

    truth = json.loads((folder / "truth.json").read_text())
    variant = json.loads((folder / "variants.json").read_text())[name]
    paras = truth["paragraphs"]
    segments, source = [], []
    for i in variant["order"]:
        # the speaker label is not spoken: the importer keeps it apart from the text
        segments.append(pipeline.SegmentIn(paras[i]["text"]))
        source.append(i)
        if variant.get("extra_after") == i:
            segments.append(pipeline.SegmentIn(variant["extra_text"]))
            source.append(None)
    parts = [
        pipeline.Part(
            p["offset_ms"], p["duration_ms"], (lambda f=p["file"]: audio.samples(str(folder / f)))
        )
        for p in truth["parts"]
    ]
    audio_ms = sum(p["duration_ms"] for p in truth["parts"])
    sampler = TreeSampler().__enter__()
    started, cpu = time.perf_counter(), time.process_time()
    if method == "dtw":
        result = segment_level.align_segments(segments, parts, "en-us", lambda p, s: None)
    else:
        with _engine() as engine:
            result = pipeline.align(
                segments,
                parts,
                engine,
                lambda p, s: None,
                synthesis=method == "dtw+sphinx",
                processes=processes,
            )
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    sampler.__exit__()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_children = children.ru_utime + children.ru_stime
    if os.environ.get("OH_BENCH_ALIGN_DUMP"):  # the whole result, to look into
        import pickle

        Path(os.environ["OH_BENCH_ALIGN_DUMP"]).write_bytes(pickle.dumps(result))
    swapped = set(variant.get("swapped", []))
    flagged = {p for u in result.unaligned for p in u["segments"]}
    errors, good_words, good_unaligned = [], 0, 0
    by_voice: dict[str, dict] = {}
    worst: list[dict] = []
    for position, (seg, i) in enumerate(zip(result.segments, source, strict=True)):
        if i is None or i in swapped:
            continue
        count = len(words(paras[i]["text"]))
        good_words += count
        # words left out of the segment's word list were not aligned
        missed = max(0, count - len(seg.words))
        good_unaligned += missed
        voice = by_voice.setdefault(
            paras[i]["voice"], {"words": 0, "unaligned": 0, "errors_ms": []}
        )
        voice["words"] += count
        voice["unaligned"] += missed
        if position in flagged or not seg.aligned:
            continue
        error = abs(seg.start_ms - paras[i]["start_ms"])
        errors.append(error)
        voice["errors_ms"].append(error)
        worst.append({"position": position, "paragraph": i, "error_ms": error, "missed": missed})
    for voice in by_voice.values():
        voice["unaligned_pct"] = round(100 * voice["unaligned"] / max(1, voice["words"]), 2)
        found = voice.pop("errors_ms")
        voice["start_error_median_ms"] = percentile(found, 0.5)
        voice["start_error_max_ms"] = max(found, default=None)
    report = {
        "variant": name,
        "method": method,
        "audio_min": round(audio_ms / 60000, 1),
        "segments": len(segments),
        "seconds": round(seconds, 1),
        "x_real_time": round(audio_ms / 1000 / seconds, 1),
        # on a shared machine the wall clock counts others' work too: the CPU time is ours
        "processes": result.stats.get("processes", 1),
        "cpu_seconds": round(cpu + cpu_children, 1),
        "cpu_seconds_workers": round(cpu_children, 1),
        "x_real_time_cpu": round(audio_ms / 1000 / (cpu + cpu_children), 1),
        "start_error_ms": {
            "median": percentile(errors, 0.5),
            "p95": percentile(errors, 0.95),
            "max": max(errors, default=None),
            "n": len(errors),
        },
        "correct_words_marked_unaligned_pct": (
            None if method == "dtw" else round(100 * good_unaligned / max(1, good_words), 2)
        ),
        "unaligned_ranges": len(result.unaligned),
        "anchors": result.stats.get("anchors"),
        "by_voice": by_voice,
        "worst_starts": sorted(worst, key=lambda w: -w["error_ms"])[:3],
    }
    if "missing" in variant:
        gone = paras[variant["missing"]]
        report["missing_flagged"] = any(
            u["reason"] == "speech not in the transcript"
            and u["start_ms"] < gone["end_ms"]
            and u["end_ms"] > gone["start_ms"]
            for u in result.unaligned
        )
    if "extra_after" in variant:
        report["extra_flagged"] = source.index(None) in flagged
    if swapped:
        report["swapped_flagged"] = any(source.index(i) in flagged for i in swapped)
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    # this process and its workers together (sampled every 0.2 s), and each worker's peak
    report["peak_rss_sum_mb"] = round(sampler.peak_kb / 1024)
    report["peak_rss_each_worker_mb"] = sorted(
        round(kb / 1024) for kb in sampler.peak_child_kb.values() if kb > 20_000
    )
    workers_cpu = sorted(v for v in sampler.cpu.values() if v > 0.5)
    report["cpu_seconds_each_worker"] = [round(v, 1) for v in workers_cpu]
    # on an idle machine the work of the workers is shared by `processes` cores while this
    # process waits: its own CPU time plus the busiest worker's is the time it would take
    report["estimated_idle_seconds"] = round((cpu + max(workers_cpu, default=0)), 1)
    report["estimated_idle_x_real_time"] = round(
        audio_ms / 1000 / report["estimated_idle_seconds"], 1
    )
    return report


def run_jfk() -> dict:
    from oralhist.align import audio, pipeline

    pcm = audio.samples(str(JFK))
    started, cpu = time.perf_counter(), time.process_time()
    with _engine() as engine:
        result = pipeline.align(
            [pipeline.SegmentIn(JFK_TEXT)],
            [pipeline.Part(0, len(pcm) // 16, pcm.copy)],
            engine,
            lambda p, s: None,
        )
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    from tests.align.test_jfk import energy_onsets

    starts = [w.start_ms for s in result.segments for w in s.words]
    errors = [min(abs(o - s) for s in starts) for o in energy_onsets(pcm)]
    return {
        "variant": "jfk",
        "x_real_time": round(len(pcm) / 16000 / seconds, 1),
        "x_real_time_cpu": round(len(pcm) / 16000 / cpu, 1),
        "onset_error_ms": {"median": percentile(errors, 0.5), "max": max(errors)},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def run_transcription(folder: Path, seconds_of_set: int) -> dict:
    from oralhist.align import audio, pipeline

    out = {}
    truth = json.loads((folder / "truth.json").read_text())
    first = truth["parts"][0]
    cases = [("jfk", str(JFK), len(audio.samples(str(JFK))) // 16, words(JFK_TEXT))]
    reference = [
        w
        for p in truth["paragraphs"]
        if p["end_ms"] <= seconds_of_set * 1000
        for w in words(p["text"])
    ]
    cases.append(("set", str(folder / first["file"]), seconds_of_set * 1000, reference))
    with _engine() as engine:
        for name, path, ms, ref in cases:
            part = pipeline.Part(0, ms, lambda path=path, ms=ms: audio.samples(path, end_ms=ms))
            started, cpu = time.perf_counter(), time.process_time()
            result = pipeline.transcribe([part], engine, lambda p, s: None)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            hyp = [w.text for s in result.segments for w in s.words]
            out[name] = {
                "audio_s": ms / 1000,
                "wer": round(wer(ref, hyp), 3),
                "rtf": round(elapsed / (ms / 1000), 2),
                "rtf_cpu": round(cpu / (ms / 1000), 2),
                "low_confidence_words": result.stats["low_confidence"],
            }
    return out


def child(args: list[str]) -> dict:
    answer = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=Path("/tmp/oralhist-align-eval"))
    parser.add_argument("--variants", default="full,missing,extra,swapped")
    parser.add_argument("--transcribe-seconds", type=int, default=120)
    parser.add_argument("--method", default="sphinx", choices=["sphinx", "dtw", "dtw+sphinx"])
    parser.add_argument(
        "--processes", type=int, default=1, help="worker processes (ALIGN_PROCESSES)"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS / "align.json")
    args = parser.parse_args(argv)
    if args.one == "jfk":
        print(json.dumps(run_jfk()))
        return 0
    if args.one == "transcribe":
        print(json.dumps(run_transcription(args.set, args.transcribe_seconds)))
        return 0
    if args.one:
        print(json.dumps(run_variant(args.set, args.one, args.method, args.processes)))
        return 0
    report = {"load_before": os.getloadavg(), "set": str(args.set), "runs": []}
    report["runs"].append(child(["--one", "jfk"]))
    print(json.dumps(report["runs"][-1]))
    for name in args.variants.split(","):
        report["runs"].append(
            child(
                [
                    "--set",
                    str(args.set),
                    "--one",
                    name,
                    "--method",
                    args.method,
                    "--processes",
                    str(args.processes),
                ]
            )
        )
        print(json.dumps(report["runs"][-1]))
    if args.transcribe_seconds:
        report["transcription"] = child(
            [
                "--set",
                str(args.set),
                "--one",
                "transcribe",
                "--transcribe-seconds",
                str(args.transcribe_seconds),
            ]
        )
        print(json.dumps(report["transcription"]))
    report["load_after"] = os.getloadavg()
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
