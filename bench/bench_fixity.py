"""Fixity benchmark: re-hashing stored files, as ``oralhist fixity`` does, against
``sha256sum`` (coreutils) on the same files.

(Hashing on a helper thread while the next chunk is read, as uploads do, was tried here and
gained nothing: 1.18 s against 1.13 s for 1 GiB read from disk, medians of six alternated
runs. Reading from this VM's disk is about as fast as hashing.)

Stores generated files (4 x 256 MiB by default) in a temporary ``LocalStorage`` on the project's
disk, then times ``LocalStorage.hash`` over all of them and ``sha256sum`` over the same paths,
each cold (the files' pages dropped with ``posix_fadvise(DONTNEED)`` first: fixity reads what
is on disk) and warm; the median of three runs each. Stdlib only.

    python bench/bench_fixity.py [--files 4] [--size-mib 256]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from oralhist.media.storage import LocalStorage  # noqa: E402

RESULTS = HERE / "results"
MIB = 1024 * 1024


def drop_cache(paths: list[Path]) -> None:
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def median_time(run, paths: list[Path], *, cold: bool) -> float:
    times = []
    for _ in range(3):
        if cold:
            drop_cache(paths)
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return sorted(times)[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--size-mib", type=int, default=256)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="oh-bench-fixity-", dir=HERE.parent))
    try:
        storage = LocalStorage(folder / "media")
        keys = []
        for n in range(args.files):
            block = os.urandom(MIB)
            source = folder / f"source-{n}"
            with source.open("wb") as out:
                for _ in range(args.size_mib):
                    out.write(block)
            with source.open("rb") as f:
                keys.append(storage.save_stream(f).key)
            source.unlink()
        paths = [storage.path(key) for key in keys]
        total = sum(p.stat().st_size for p in paths)

        def ours() -> None:
            for key in keys:
                assert storage.hash(key) == key

        def coreutils() -> None:
            subprocess.run(["sha256sum", *map(str, paths)], check=True, capture_output=True)

        result = {"files": len(keys), "bytes": total}
        for state in ("cold", "warm"):
            ours_s = median_time(ours, paths, cold=state == "cold")
            theirs_s = median_time(coreutils, paths, cold=state == "cold")
            result[state] = {
                "oralhist_s": round(ours_s, 2),
                "oralhist_mb_s": round(total / 1e6 / ours_s, 1),
                "sha256sum_s": round(theirs_s, 2),
                "sha256sum_mb_s": round(total / 1e6 / theirs_s, 1),
                "ratio_vs_sha256sum": round(theirs_s / ours_s, 2),
            }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{len(keys)} files, {total / MIB:.0f} MiB in all")
    for state in ("cold", "warm"):
        r = result[state]
        print(
            f"{state}: LocalStorage.hash {r['oralhist_s']} s ({r['oralhist_mb_s']} MB/s), "
            f"sha256sum {r['sha256sum_s']} s ({r['sha256sum_mb_s']} MB/s), "
            f"ratio {r['ratio_vs_sha256sum']}"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "fixity.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"Wrote {RESULTS / 'fixity.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
