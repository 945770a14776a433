"""Run every benchmark in bench/ and print where their figures went (bench/results/).

`make bench` runs this. Each script can also run alone; see bench/README.md. The search
benchmark at 1,000 interviews takes a long while: set OH_BENCH_INTERVIEWS=1000 for it
(default 100).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

SCRIPTS = [
    ("bench_search.py", ["--interviews", os.environ.get("OH_BENCH_INTERVIEWS", "100")]),
    ("bench_search_http.py", ["--interviews", os.environ.get("OH_BENCH_INTERVIEWS", "100")]),
    ("bench_transcript.py", []),
    ("bench_editor.py", []),
    ("bench_item_cost.py", []),
    ("bench_upload.py", []),
    ("bench_stream.py", []),
    ("bench_fixity.py", []),
    ("bench_interop.py", ["--interviews", "300"]),
    ("bench_derivatives.py", []),
]


def main() -> int:
    failed = []
    for name, args in SCRIPTS:
        script = HERE / name
        if not script.exists():
            print(f"-- {name}: not present, skipped")
            continue
        print(f"== {name} {' '.join(args)}", flush=True)
        result = subprocess.run([sys.executable, str(script), *args], cwd=HERE.parent)
        if result.returncode != 0:
            failed.append(name)
    print(f"Results are in {HERE / 'results'}")
    if failed:
        print("Failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
