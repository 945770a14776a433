"""The web server's latency while an alignment job runs (issue 14): ``GET /search`` p50/p95
with no job running, and while ``oralhist worker`` aligns a 30-minute interview, with the job
thread niced (``JOB_NICE``, default 10) and not (``JOB_NICE=0``).

    python bench/align_evalset.py --minutes 30          # once: the audio and its transcript
    python bench/bench_align_latency.py [--set /tmp/oralhist-align-eval] [--nice 10,0]

1. A temporary project served by ``oralhist serve`` (2 gunicorn workers, and the worker that
   runs jobs), holding the synthetic archive of ``bench_search_http`` (100 interviews,
   reindexed) and one interview with the evaluation set's three parts and its untimed
   transcript (uploaded through the API; its access-copy and waveform jobs are waited for).
2. For each ``--nice`` value (the server restarted with ``OH_JOB_NICE``): a researcher's
   fixed query set through ``GET /search`` (one client, a fresh connection each) until
   ``--baseline`` requests are answered; then ``POST /api/v1/interviews/<id>/align`` and the
   same queries for as long as the job runs; the job's wall time.

Writes ``bench/results/align-latency.json`` with the load average (the machine is shared:
compare the runs with each other, not with another day's).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import bench_search_http as http_bench  # noqa: E402
from _server import PASSWORD  # noqa: E402
from bench_search import percentile, query_set  # noqa: E402


def upload(project, path: str, token: str, name: str, data: bytes) -> dict:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, answer = project.request(
        "POST", path, token, body, f"multipart/form-data; boundary={boundary}"
    )
    if status != 201:
        raise RuntimeError(f"{path}: {status} {answer}")
    return answer


def search_ms(project, token: str, queries: list, count: int) -> list[float]:
    times = []
    for n in range(count):
        item = queries[n % len(queries)]
        status, _body, ms = project.get(http_bench.query_path("/search", item), token)
        if status != 200:
            raise RuntimeError(f"/search {item['q']!r}: {status}")
        times.append(ms)
    return times


def summary(times: list[float]) -> dict:
    return {
        "requests": len(times),
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "max_ms": round(max(times), 1),
    }


def stop_server(project) -> None:
    """Stop ``oralhist serve`` (and its worker), keeping the project."""
    os.killpg(project.server.pid, signal.SIGTERM)
    project.server.wait(timeout=120)
    project.server = None


def wait_for_jobs(project) -> None:
    while "No jobs." not in project.oh("jobs", "list", "--status", "active"):
        time.sleep(2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=Path("/tmp/oralhist-align-eval"))
    parser.add_argument("--interviews", type=int, default=100)
    parser.add_argument("--nice", default="10,0", help="JOB_NICE values to compare")
    parser.add_argument("--processes", type=int, default=0, help="ALIGN_PROCESSES")
    parser.add_argument("--baseline", type=int, default=300, help="requests without a job")
    args = parser.parse_args()
    truth = json.loads((args.set / "truth.json").read_text())
    project = http_bench.Project(keep=False)
    researcher_email, archivist_email = "researcher@example.org", "archivist@example.org"
    report: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(), "runs": []}
    try:
        project.oh("init")
        archivist = project.user(archivist_email, "archivist")
        project.oh("create-user", researcher_email, "--role", "researcher", "--password", PASSWORD)
        http_bench.load_archive(project, args.interviews, researcher_email, archivist_email)
        http_bench.reindex(project)
        researcher = project.oh("create-token", researcher_email).strip().splitlines()[-1]
        queries = query_set()
        project.env["OH_ALIGN_PROCESSES"] = str(args.processes)
        interview_id = None
        for nice in [int(n) for n in args.nice.split(",")]:
            project.env["OH_JOB_NICE"] = str(nice)
            project.serve()
            if interview_id is None:
                status, made = project.request(
                    "POST",
                    "/api/v1/interviews",
                    archivist,
                    json.dumps({"title": "Latency bench", "language": "en"}).encode(),
                    "application/json",
                )
                interview_id = made["id"]
                for part in truth["parts"]:
                    data = (args.set / part["file"]).read_bytes()
                    upload(
                        project,
                        f"/api/v1/interviews/{interview_id}/recordings",
                        archivist,
                        part["file"],
                        data,
                    )
                # surnames, as in the sample: "INTERVIEWER:" at the top reads as a header
                names = {"INTERVIEWER": "ADLER", "NARRATOR": "OKAFOR"}
                text = "\n\n".join(
                    f"{names.get(p['label'], p['label'])}: {p['text']}" for p in truth["paragraphs"]
                )
                upload(
                    project,
                    f"/api/v1/interviews/{interview_id}/transcripts",
                    archivist,
                    "untimed.txt",
                    text.encode(),
                )
                wait_for_jobs(project)  # the access copies and waveforms
            load_before = os.getloadavg()
            idle = search_ms(project, researcher, queries, args.baseline)
            status, job = project.request(
                "POST", f"/api/v1/interviews/{interview_id}/align", archivist
            )
            if status != 202:
                raise RuntimeError(f"align: {status} {job}")
            started = time.perf_counter()
            busy: list[float] = []
            while True:
                busy += search_ms(project, researcher, queries, 20)
                _, state = project.request("GET", f"/api/v1/jobs/{job['id']}", archivist)
                if state["status"] not in ("queued", "running"):
                    break
            seconds = time.perf_counter() - started
            run = {
                "job_nice": nice,
                "align_processes": args.processes or "all CPUs",
                "load_before": [round(x, 2) for x in load_before],
                "load_after": [round(x, 2) for x in os.getloadavg()],
                "search_without_job": summary(idle),
                "search_while_aligning": summary(busy),
                "job": {"status": state["status"], "seconds": round(seconds, 1)},
                "audio_min": round(sum(p["duration_ms"] for p in truth["parts"]) / 60000, 1),
            }
            print(json.dumps(run), flush=True)
            report["runs"].append(run)
            stop_server(project)
    finally:
        project.stop()
    out = HERE / "results" / "align-latency.json"
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
